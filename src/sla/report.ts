// The monthly credit report: closed records (immutable) with their corrections (the ledger) and,
// for customers whose month is not closed yet, provisional figures computed now. Rendered as JSON,
// CSV or a printable HTML page. Every amount is integer cents, shown with two decimals; every
// percentage on paper (CSV, HTML) is rounded down to two decimals (money.ts), never up.
import type { SlaContext } from './context.ts'
import { listCredits } from './credits.ts'
import { customersOfMonth } from './customers.ts'
import { computeMonth } from './figures.ts'
import { getHold } from './holds.ts'
import { loadLedgers } from './ledger.ts'
import { formatCents, formatPercent } from './money.ts'
import type { Month } from './months.ts'
import type { CreditRecord, CreditReport, CreditReportItem } from './schemas/credits.ts'
import type { CustomerMonth, TierHit } from './schemas/figures.ts'
import type { CreditLedger } from './schemas/ledger.ts'

const fromRecord = (r: CreditRecord, ledger: CreditLedger | undefined): CreditReportItem => ({
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
  adjustments: ledger?.adjustments ?? [],
  netCreditCents: ledger?.netCents ?? r.creditCents,
  creditStatus: ledger?.status ?? 'active',
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
  adjustments: [],
  netCreditCents: m.evaluation.creditCents,
  creditStatus: 'active',
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
  const ledgers = await loadLedgers(
    ctx.pool,
    records.map((r) => r.id),
  )
  const items = records.map((r) => fromRecord(r, ledgers.get(r.id)))
  if (missing.length && now >= month.start) {
    const figures = await computeMonth(ctx, month, missing, { now })
    items.push(...figures.customers.map((m) => provisional(m, hold?.status === 'held')))
  }
  items.sort((a, b) => a.customerId.localeCompare(b.customerId))
  return { month: month.key, generatedAt: now.toISOString(), hold, items }
}

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
  'success_status',
  'succeeded_runs',
  'finished_runs',
  'validation_failures',
  'customer_cancelled_runs',
  'operator_cancelled_runs',
  'execution_time_met',
  'cost',
  'credit_percent',
  'monthly_fee',
  'credit_amount',
  'adjustments',
  'net_credit_amount',
  'credit_status',
  'currency',
  'tiers',
  'credit_id',
  'inputs_sha256',
] as const

/** One correction on one line: "#1 2026-04-10 void -100.00 by admin: late data". */
const adjustmentText = (a: CreditReportItem['adjustments'][number]) =>
  `#${a.seq} ${a.createdAt.slice(0, 10)} ${a.kind} ${formatCents(a.amountCents)} by ${a.actor}: ${a.reason}`

export function csvField(v: unknown): string {
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
      uptime_percent: formatPercent(f.uptime.percent),
      uptime_target: formatPercent(f.uptime.target),
      eligible_minutes: f.uptime.eligibleMinutes,
      down_minutes: f.uptime.downMinutes,
      maintenance_minutes: f.uptime.maintenanceMinutes,
      success_rate: f.success.successRate === null ? null : formatPercent(f.success.successRate),
      success_target: formatPercent(f.success.target),
      success_status: f.success.status,
      succeeded_runs: f.success.succeeded,
      finished_runs: f.success.finished,
      validation_failures: f.success.excluded.validation,
      customer_cancelled_runs: f.success.excluded.customerCancelled,
      operator_cancelled_runs: f.success.operatorCancelled,
      execution_time_met: f.evaluation.met.executionTime,
      cost: formatCents(f.cost.totalCents),
      credit_percent: formatPercent(i.creditPercent),
      monthly_fee: formatCents(i.feeCents),
      credit_amount: formatCents(i.creditCents),
      adjustments: i.adjustments.map(adjustmentText).join(' | '),
      net_credit_amount: formatCents(i.netCreditCents),
      credit_status: i.creditStatus,
      currency: i.currency,
      tiers: i.tiers.map((t) => `${t.metric}:${formatPercent(t.creditPercent)}%`).join(' '),
      credit_id: i.creditId,
      inputs_sha256: i.inputsSha256,
    }
    lines.push(CSV_COLUMNS.map((c) => csvField(row[c])).join(','))
  }
  return `${lines.join('\r\n')}\r\n`
}

export const esc = (v: unknown) => String(v ?? '—').replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`)
/** A percentage on the page: rounded down to two decimals, so 99.8999 is "99.89%", never "99.9%". */
const pct = (p: number) => `${esc(formatPercent(p))}%`

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
      return `<rect x="${(30 + i * bw).toFixed(1)}" y="${top.toFixed(1)}" width="${(bw - 2).toFixed(1)}" height="${(h - 20 - top).toFixed(1)}" fill="${color}"><title>${esc(d.day)}: ${pct(d.percent)} (${d.downMinutes} min down)</title></rect>`
    })
    .join('')
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" viewBox="0 0 ${w} ${h}" role="img" aria-label="Daily uptime">` +
    `<line x1="30" x2="${w - 10}" y1="${y(target).toFixed(1)}" y2="${y(target).toFixed(1)}" stroke="#555" stroke-dasharray="4 3"/>` +
    `<text x="0" y="14" font-size="10">100%</text><text x="0" y="${h - 20}" font-size="10">${lo}%</text>` +
    `${bars}</svg>`
  )
}

/** The measured success rate, what it counts and what it leaves out. */
function successText(s: CustomerMonth['success']): string {
  const counted = `${s.succeeded}/${s.finished}`
  const head =
    s.status === 'insufficient_data'
      ? `insufficient data (${s.finished} counted runs, minimum ${Math.max(1, s.minimumRuns)})`
      : `${formatPercent(s.successRate ?? 100)}% (${counted})`
  const notes = [
    s.operatorCancelled ? `${s.operatorCancelled} cancelled by an operator, counted` : '',
    s.excluded.validation ? `${s.excluded.validation} validation failures excluded` : '',
    s.excluded.customerCancelled ? `${s.excluded.customerCancelled} cancelled by the customer excluded` : '',
  ].filter(Boolean)
  return notes.length ? `${head}; ${notes.join('; ')}` : head
}

/** The corrections of a closed credit, in order, and the net: nothing when there are none. */
function ledgerHtml(i: CreditReportItem): string {
  if (!i.adjustments.length) return ''
  const rows = i.adjustments
    .map(
      (a) =>
        `<tr><td>#${a.seq}</td><td>${esc(a.createdAt)}</td><td>${esc(a.kind)}</td><td>${esc(formatCents(a.amountCents))}</td><td>${esc(formatCents(a.netCents))}</td><td>${esc(a.actor)}</td><td>${esc(a.reason)}</td></tr>`,
    )
    .join('')
  return `<table class="ledger"><caption>Corrections (the closed record above never changes)</caption><thead><tr><th>#</th><th>When</th><th>Kind</th><th>Amount</th><th>Net after</th><th>By</th><th>Reason</th></tr></thead><tbody>${rows}</tbody></table>
<p class="net">Net credit: <strong data-net-credit-amount="${esc(formatCents(i.netCreditCents))}">${esc(formatCents(i.netCreditCents))} ${esc(i.currency)}</strong>${i.creditStatus === 'void' ? ' (void)' : ''}</p>`
}

function customerSection(i: CreditReportItem): string {
  const f = i.figures
  const tier = (m: TierHit['metric']) => i.tiers.find((t) => t.metric === m)
  const rowHtml = (name: string, value: string, target: string, met: boolean | null, t?: TierHit) =>
    `<tr><td>${esc(name)}</td><td>${esc(value)}</td><td>${esc(target)}</td><td class="${met === false ? 'miss' : 'ok'}">${met === null ? '—' : met ? 'met' : 'missed'}</td><td>${t ? `${pct(t.creditPercent)}${t.below === null ? '' : ` (below ${pct(t.below)})`}` : '—'}</td></tr>`
  const rows = [
    rowHtml(
      'Uptime',
      `${pct(f.uptime.percent)} (${f.uptime.downMinutes} of ${f.uptime.eligibleMinutes} min down)`,
      pct(f.uptime.target),
      f.uptime.met,
      tier('uptime'),
    ),
    rowHtml(
      'Run success rate',
      successText(f.success),
      pct(f.success.target),
      f.success.status === 'insufficient_data' ? null : f.success.met,
      tier('success_rate'),
    ),
    ...f.executionTime
      .filter((e) => e.targetMs !== null)
      .map((e) =>
        rowHtml(
          `Execution time: ${e.runType}`,
          `${pct(e.compliancePercent ?? 100)} within ${e.targetMs} ms (p95 ${e.p95Ms} ms)`,
          pct(e.withinPercentTarget ?? 100),
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
<p class="credit">Credit: <strong>${pct(i.creditPercent)}</strong> of ${esc(formatCents(i.feeCents))} ${esc(i.currency)} = <strong data-credit-amount="${esc(formatCents(i.creditCents))}">${esc(formatCents(i.creditCents))} ${esc(i.currency)}</strong>${f.evaluation.capped ? ` (capped at ${pct(f.plan.capPercent)})` : ''}</p>
${ledgerHtml(i)}
<p>Maintenance excluded: ${esc(f.uptime.maintenanceMinutes)} min; not in service: ${esc(f.uptime.notInServiceMinutes)} min; unmeasured (witnessed, no telemetry): ${esc(f.uptime.unmeasuredMinutes)} min. Cost this month: ${esc(formatCents(f.cost.totalCents))} ${esc(f.cost.currency)}.${i.inputsSha256 ? ` Inputs SHA-256: <code>${esc(i.inputsSha256)}</code>` : ''}</p>
${maintenanceList(f)}${evidence(f)}
<figure><figcaption>Daily uptime (dashed: ${pct(f.uptime.target)} target)</figcaption>${uptimeSvg(f.uptime.daily, f.uptime.target)}</figure>
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
