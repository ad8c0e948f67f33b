// The monthly credit report: closed records (immutable) and, for customers whose month is not
// closed yet, provisional figures computed now. Rendered as JSON, CSV or a printable HTML page.
import type { SlaContext } from './context.ts'
import { listCredits } from './credits.ts'
import { customersOfMonth } from './customers.ts'
import { computeMonth } from './figures.ts'
import { getHold } from './holds.ts'
import type { Month } from './months.ts'
import type { CreditRecord, CreditReport, CreditReportItem } from './schemas/credits.ts'
import type { CustomerMonth, TierHit } from './schemas/figures.ts'

const fromRecord = (r: CreditRecord): CreditReportItem => ({
  customerId: r.customerId,
  month: r.month,
  status: 'closed',
  creditId: r.id,
  planVersion: r.planVersion,
  creditPercent: r.creditPercent,
  feeCents: r.feeCents,
  creditCents: r.creditCents,
  currency: r.currency,
  tiers: r.tiers,
  inputsSha256: r.inputsSha256,
  figures: r.inputs,
})

const provisional = (m: CustomerMonth, held: boolean): CreditReportItem => ({
  customerId: m.customerId,
  month: m.month,
  status: held ? 'held' : 'provisional',
  creditId: null,
  planVersion: m.plan.version,
  creditPercent: m.evaluation.creditPercent,
  feeCents: m.evaluation.feeCents,
  creditCents: m.evaluation.creditCents,
  currency: m.evaluation.currency,
  tiers: m.evaluation.tiers,
  inputsSha256: null,
  figures: m,
})

/** Records of the month, plus provisional figures for customers (in scope) without one. */
export async function buildCreditReport(
  ctx: SlaContext,
  month: Month,
  customerId: string | undefined,
  now = new Date(),
): Promise<CreditReport> {
  const [records, hold] = await Promise.all([
    listCredits(ctx.pool, month, customerId),
    getHold(ctx.pool, month),
  ])
  const existed = await customersOfMonth(ctx.tenants, month, customerId)
  const missing = existed.map((c) => c.id).filter((id) => !records.some((r) => r.customerId === id))
  const items = records.map(fromRecord)
  if (missing.length && now >= month.start) {
    const figures = await computeMonth(ctx, month, missing, { now })
    items.push(...figures.customers.map((m) => provisional(m, hold?.status === 'held')))
  }
  items.sort((a, b) => a.customerId.localeCompare(b.customerId))
  return { month: month.key, generatedAt: now.toISOString(), hold, items }
}

const money = (cents: number) => (cents / 100).toFixed(2)

export const CSV_COLUMNS = [
  'customer_id',
  'month',
  'status',
  'plan_version',
  'uptime_percent',
  'uptime_target',
  'eligible_minutes',
  'down_minutes',
  'maintenance_minutes',
  'success_rate',
  'success_target',
  'succeeded_runs',
  'finished_runs',
  'execution_time_met',
  'cost',
  'credit_percent',
  'monthly_fee',
  'credit_amount',
  'currency',
  'tiers',
  'credit_id',
  'inputs_sha256',
] as const

function csvField(v: unknown): string {
  const s = v === null || v === undefined ? '' : String(v)
  // Quote when needed; a leading = + - @ is neutralised so spreadsheets do not run it as a formula.
  const safe = /^[=+\-@]/.test(s) && Number.isNaN(Number(s)) ? `'${s}` : s
  return /[",\n\r]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe
}

export function renderCsv(report: CreditReport): string {
  const lines = [CSV_COLUMNS.join(',')]
  for (const i of report.items) {
    const f = i.figures
    const row: Record<(typeof CSV_COLUMNS)[number], unknown> = {
      customer_id: i.customerId,
      month: i.month,
      status: i.status,
      plan_version: i.planVersion,
      uptime_percent: f.uptime.percent,
      uptime_target: f.uptime.target,
      eligible_minutes: f.uptime.eligibleMinutes,
      down_minutes: f.uptime.downMinutes,
      maintenance_minutes: f.uptime.maintenanceMinutes,
      success_rate: f.success.successRate,
      success_target: f.success.target,
      succeeded_runs: f.success.succeeded,
      finished_runs: f.success.finished,
      execution_time_met: f.evaluation.met.executionTime,
      cost: f.cost.total,
      credit_percent: i.creditPercent,
      monthly_fee: money(i.feeCents),
      credit_amount: money(i.creditCents),
      currency: i.currency,
      tiers: i.tiers.map((t) => `${t.metric}:${t.creditPercent}%`).join(' '),
      credit_id: i.creditId,
      inputs_sha256: i.inputsSha256,
    }
    lines.push(CSV_COLUMNS.map((c) => csvField(row[c])).join(','))
  }
  return `${lines.join('\r\n')}\r\n`
}

const esc = (v: unknown) => String(v ?? '—').replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`)

/** Daily uptime as an inline SVG bar chart (100% at the top, the target as a dashed line). */
export function uptimeSvg(daily: CustomerMonth['uptime']['daily'], target: number): string {
  const w = 620
  const h = 160
  const floor = Math.min(target - 1, ...daily.map((d) => d.percent))
  const lo = Math.max(0, Math.floor(floor))
  const y = (p: number) => 10 + ((100 - p) / (100 - lo || 1)) * (h - 30)
  const bw = (w - 40) / Math.max(1, daily.length)
  const bars = daily
    .map((d, i) => {
      const top = y(d.percent)
      const color = d.percent < target ? '#c0392b' : '#27ae60'
      return `<rect x="${(30 + i * bw).toFixed(1)}" y="${top.toFixed(1)}" width="${(bw - 2).toFixed(1)}" height="${(h - 20 - top).toFixed(1)}" fill="${color}"><title>${esc(d.day)}: ${esc(d.percent)}% (${d.downMinutes} min down)</title></rect>`
    })
    .join('')
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" viewBox="0 0 ${w} ${h}" role="img" aria-label="Daily uptime">` +
    `<line x1="30" x2="${w - 10}" y1="${y(target).toFixed(1)}" y2="${y(target).toFixed(1)}" stroke="#555" stroke-dasharray="4 3"/>` +
    `<text x="0" y="14" font-size="10">100%</text><text x="0" y="${h - 20}" font-size="10">${lo}%</text>` +
    `${bars}</svg>`
  )
}

function customerSection(i: CreditReportItem): string {
  const f = i.figures
  const tier = (m: TierHit['metric']) => i.tiers.find((t) => t.metric === m)
  const rowHtml = (name: string, value: string, target: string, met: boolean | null, t?: TierHit) =>
    `<tr><td>${esc(name)}</td><td>${esc(value)}</td><td>${esc(target)}</td><td class="${met === false ? 'miss' : 'ok'}">${met === null ? '—' : met ? 'met' : 'missed'}</td><td>${t ? `${esc(t.creditPercent)}%${t.below === null ? '' : ` (below ${esc(t.below)}%)`}` : '—'}</td></tr>`
  const rows = [
    rowHtml(
      'Uptime',
      `${f.uptime.percent}% (${f.uptime.downMinutes} of ${f.uptime.eligibleMinutes} min down)`,
      `${f.uptime.target}%`,
      f.uptime.met,
      tier('uptime'),
    ),
    rowHtml(
      'Run success rate',
      f.success.successRate === null
        ? 'no finished runs'
        : `${f.success.successRate}% (${f.success.succeeded}/${f.success.finished})`,
      `${f.success.target}%`,
      f.success.met,
      tier('success_rate'),
    ),
    ...f.executionTime
      .filter((e) => e.targetMs !== null)
      .map((e) =>
        rowHtml(
          `Execution time: ${e.runType}`,
          `${e.compliancePercent}% within ${e.targetMs} ms (p95 ${e.p95Ms} ms)`,
          `${e.withinPercentTarget}%`,
          e.met,
          e.met ? undefined : tier('execution_time'),
        ),
      ),
    ...f.rto
      .filter((r) => r.recoveries > 0)
      .map((r) =>
        rowHtml(
          `RTO: ${r.kind}`,
          `worst ${r.worstSeconds} s over ${r.recoveries}`,
          `${r.targetSeconds} s`,
          r.met,
        ),
      ),
  ].join('')
  return `<section>
<h2>${esc(i.customerId)} — ${esc(i.month)} <small>(${esc(i.status)}, plan v${esc(i.planVersion)})</small></h2>
<table><thead><tr><th>Metric</th><th>Measured</th><th>Target</th><th>Status</th><th>Tier hit</th></tr></thead><tbody>${rows}</tbody></table>
<p class="credit">Credit: <strong>${esc(i.creditPercent)}%</strong> of ${esc(money(i.feeCents))} ${esc(i.currency)} = <strong data-credit-amount="${esc(money(i.creditCents))}">${esc(money(i.creditCents))} ${esc(i.currency)}</strong>${f.evaluation.capped ? ` (capped at ${esc(f.plan.capPercent)}%)` : ''}</p>
<p>Maintenance excluded: ${esc(f.uptime.maintenanceMinutes)} min; not in service: ${esc(f.uptime.notInServiceMinutes)} min; unmeasured (witnessed, no telemetry): ${esc(f.uptime.unmeasuredMinutes)} min. Cost this month: ${esc(f.cost.total)} ${esc(f.cost.currency)}.${i.inputsSha256 ? ` Inputs SHA-256: <code>${esc(i.inputsSha256)}</code>` : ''}</p>
${maintenanceList(f)}${evidence(f)}
<figure><figcaption>Daily uptime (dashed: ${esc(f.uptime.target)}% target)</figcaption>${uptimeSvg(f.uptime.daily, f.uptime.target)}</figure>
</section>`
}

/** Every window that concerns the customer: how it was declared, adjusted or cancelled. */
function maintenanceList(f: CustomerMonth): string {
  if (!f.maintenance.length) return ''
  const line = (w: CustomerMonth['maintenance'][number]) =>
    `<li>${esc(w.start)} – ${esc(w.end)}: ${esc(w.reason)} (<strong>${esc(w.status)}</strong>; declared ${esc(w.declaredAt)} by ${esc(w.declaredBy)}` +
    `${w.adjustment ? `; adjustment (${esc(w.adjustment.kinds.join(', '))}): ${esc(w.adjustment.reason)}` : ''}` +
    `${w.cancelledAt ? `; cancelled ${esc(w.cancelledAt)} by ${esc(w.cancelledBy)}: ${esc(w.cancelReason)}` : ''})</li>`
  return `<p>Maintenance windows (only planned ones and adjustments are excluded):</p><ul>${f.maintenance.map(line).join('')}</ul>`
}

/** The customer's own probes: evidence shown next to the figures, counted only when the plan says so. */
function evidence(f: CustomerMonth): string {
  const p = f.uptime.customerProbes
  if (!p.minutes) return ''
  return `<p>Your own probes (${p.counted ? 'counted, as your plan says' : 'evidence: not counted'}): ${esc(p.minutes)} minutes probed, ${esc(p.failedMinutes)} failed.</p>`
}

/** The month's hold, for the reader of a disputed report: why no record was issued, or who released it. */
function holdBanner(hold: CreditReport['hold']): string {
  if (!hold) return ''
  const gap = `${esc(hold.unmeasuredMinutes)} minutes that Steward's witness saw served have no telemetry in ClickHouse`
  return hold.status === 'held'
    ? `<p class="miss" role="alert">Held since ${esc(hold.heldAt)}: ${gap}. No credit is issued until an admin releases the month.</p>`
    : `<p>Held on ${esc(hold.heldAt)} (${gap}); released ${esc(hold.releasedAt)} by ${esc(hold.releasedBy)}: ${esc(hold.releaseReason)}.</p>`
}

export function renderHtml(report: CreditReport): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>SLA credits ${esc(report.month)}</title>
<style>body{font-family:system-ui,sans-serif;margin:2em;color:#222}table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #bbb;padding:.3em .6em;text-align:left}.miss{color:#c0392b;font-weight:bold}.ok{color:#27ae60}section{page-break-after:always;margin-bottom:2em}@media print{body{margin:0}}</style>
</head><body>
<h1>SLA credit report — ${esc(report.month)}</h1>
<p>Generated ${esc(report.generatedAt)}. Uptime counts a minute down when Steward's heartbeats or the operator's probes say so, or when neither ClickHouse nor Steward's own witness shows life; planned maintenance, minutes before service began and witnessed minutes without telemetry are excluded.</p>
${holdBanner(report.hold)}
${report.items.map(customerSection).join('\n') || '<p>No customers in this month.</p>'}
</body></html>
`
}
