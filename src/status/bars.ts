// The daily uptime bars as inline SVG (no script, no external asset), with a text alternative:
// the SVG is one image described by its title and description, each bar has a tooltip, and the
// page adds a table of the same figures.
import { html } from 'hono/html'
import type { StatusSnapshot, UptimeDay } from './schemas.ts'

/** Fill colours; each has at least 3:1 contrast against the white page (WCAG non-text contrast). */
export const DAY_COLOURS: Record<UptimeDay['state'], string> = {
  operational: '#1a7f37',
  degraded: '#9a6700',
  outage: '#cf222e',
  maintenance: '#0969da',
  no_data: '#818b98',
}

export const DAY_LABELS: Record<UptimeDay['state'], string> = {
  operational: 'Operational',
  degraded: 'Degraded',
  outage: 'Outage',
  maintenance: 'Maintenance',
  no_data: 'No data',
}

export function dayText(d: UptimeDay): string {
  if (d.state === 'no_data') return `${d.day}: no data (before the service first reported)`
  if (d.percent === null) return `${d.day}: planned maintenance all day`
  return `${d.day}: ${d.percent}% up${d.downMinutes ? `, ${d.downMinutes} min down` : ''} (${DAY_LABELS[d.state].toLowerCase()})`
}

export function uptimeBars(u: StatusSnapshot['uptime']) {
  const gap = 2
  const bar = 8
  const height = 40
  const width = u.history.length * (bar + gap) - gap
  const counts = new Map<string, number>()
  for (const d of u.history) counts.set(d.state, (counts.get(d.state) ?? 0) + 1)
  const description = [...counts]
    .map(
      ([state, n]) =>
        `${n} day${n === 1 ? '' : 's'} ${DAY_LABELS[state as UptimeDay['state']].toLowerCase()}`,
    )
    .join(', ')
  return html`<svg xmlns="http://www.w3.org/2000/svg" class="bars" viewBox="0 0 ${width} ${height}" width="100%" height="${height}" preserveAspectRatio="none" role="img" aria-labelledby="bars-title bars-desc">
<title id="bars-title">Daily uptime, last ${u.days} days</title>
<desc id="bars-desc">${u.percent === null ? 'No uptime measured yet' : `${u.percent}% uptime over the days with data`}. ${description}.</desc>
${u.history.map(
  (d, i) =>
    html`<rect x="${i * (bar + gap)}" y="0" width="${bar}" height="${height}" rx="1.5" fill="${DAY_COLOURS[d.state]}" data-day="${d.day}" data-state="${d.state}"><title>${dayText(d)}</title></rect>`,
)}
</svg>`
}
