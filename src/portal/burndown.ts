// The uptime error budget's burn-down as inline SVG: the budget left at the end of each day of the
// month so far (solid), and the ideal line that spends it evenly to zero at the month's end
// (dashed). One image with a title and a description; the page adds a table of the same figures.
// Lines are drawn with presentation attributes (no style attribute: the page's CSP allows none).
import { html } from 'hono/html'
import type { ErrorBudget } from '../sla/index.ts'

const W = 640
const H = 240
const LEFT = 76
const RIGHT = 12
const TOP = 14
const BOTTOM = 34

/** Minutes as the chart's labels and table write them: "43.2 min", "-3.5 min". */
export const minutes = (m: number) => `${Number(m.toFixed(1))} min`

export function burndownSvg(b: ErrorBudget['uptime'], month: string) {
  const low = Math.min(0, ...b.days.map((d) => d.remainingMinutes))
  const high = Math.max(b.budgetMinutes, 1e-9)
  const x = (day: number) => LEFT + ((W - LEFT - RIGHT) * day) / b.monthDays
  const y = (m: number) => TOP + ((H - TOP - BOTTOM) * (high - m)) / (high - low)
  const dayIndex = (iso: string) => Number(iso.slice(8, 10))
  // Where the budget starts whole: the month's start, or the day a customer created mid-month began.
  const first = b.startDay
  const remaining = [
    `${x(first).toFixed(1)},${y(b.budgetMinutes).toFixed(1)}`,
    ...b.days
      .filter((d) => dayIndex(d.day) > first)
      .map((d) => `${x(dayIndex(d.day)).toFixed(1)},${y(d.remainingMinutes).toFixed(1)}`),
  ].join(' ')
  const ticks = [1, 8, 15, 22, b.monthDays]
  const left = b.remainingMinutes
  const description = `${minutes(Math.max(0, left))} of ${minutes(b.budgetMinutes)} left (${b.remainingPercent}%) after ${b.days.length} day${b.days.length === 1 ? '' : 's'}${left < 0 ? `; overspent by ${minutes(-left)}` : ''}. The ideal line spends the budget evenly to zero on day ${b.monthDays}.`
  return html`<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-labelledby="burn-title burn-desc" data-chart="burndown">
<title id="burn-title">Uptime error budget left, ${month}</title>
<desc id="burn-desc">${description}</desc>
<rect x="0" y="0" width="${W}" height="${H}" fill="#ffffff"/>
<line x1="${LEFT}" x2="${W - RIGHT}" y1="${y(0).toFixed(1)}" y2="${y(0).toFixed(1)}" stroke="#59636e" stroke-width="1"/>
<line x1="${LEFT}" x2="${LEFT}" y1="${TOP}" y2="${H - BOTTOM}" stroke="#59636e" stroke-width="1"/>
<text x="${LEFT - 6}" y="${(y(high) + 4).toFixed(1)}" font-size="11" text-anchor="end" fill="#1f2328">${minutes(b.budgetMinutes)}</text>
<text x="${LEFT - 6}" y="${(y(0) + 4).toFixed(1)}" font-size="11" text-anchor="end" fill="#1f2328">0</text>
${low < 0 ? html`<text x="${LEFT - 6}" y="${(y(low) + 4).toFixed(1)}" font-size="11" text-anchor="end" fill="#cf222e">${minutes(low)}</text>` : ''}
${ticks.map(
  (t) =>
    html`<text x="${x(t).toFixed(1)}" y="${H - BOTTOM + 16}" font-size="11" text-anchor="middle" fill="#1f2328">${t}</text>`,
)}
<text x="${((LEFT + W - RIGHT) / 2).toFixed(1)}" y="${H - 4}" font-size="11" text-anchor="middle" fill="#59636e">day of the month</text>
<line x1="${x(first).toFixed(1)}" y1="${y(b.budgetMinutes).toFixed(1)}" x2="${x(b.monthDays).toFixed(1)}" y2="${y(0).toFixed(1)}" stroke="#59636e" stroke-width="2" stroke-dasharray="6 4" data-line="ideal"/>
<polyline points="${remaining}" fill="none" stroke="#0550ae" stroke-width="3" stroke-linejoin="round" data-line="remaining"/>
${b.days.map(
  (d) =>
    html`<circle cx="${x(dayIndex(d.day)).toFixed(1)}" cy="${y(d.remainingMinutes).toFixed(1)}" r="3" fill="${d.remainingMinutes < 0 ? '#cf222e' : '#0550ae'}"><title>${d.day}: ${minutes(d.remainingMinutes)} left (${minutes(d.downMinutes)} down that day; ideal ${minutes(d.idealMinutes)})</title></circle>`,
)}
</svg>`
}
