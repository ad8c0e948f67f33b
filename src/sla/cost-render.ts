// The profitability report (costs.ts) on paper: CSV (one row per customer, RFC 4180, CRLF) and a
// printable HTML page. Amounts are cents shown with two decimals; margin % is rounded toward zero.
import { formatCents } from './money.ts'
import { csvField, esc } from './report.ts'
import type { CostReport, CustomerProfit } from './schemas/costs.ts'

export const COST_CSV_COLUMNS = [
  'customer_id',
  'month',
  'status',
  'policy',
  'minutes_in_service',
  'fixed_cost_percent',
  'fixed',
  'infrastructure',
  'ai',
  'cost',
  'cost_currency',
  'fee',
  'credit',
  'adjustments',
  'net_credit',
  'revenue',
  'plan_currency',
  'margin',
  'margin_percent',
  'margin_status',
] as const

const marginText = (c: CustomerProfit) =>
  c.margin.cents === null ? 'unmeasured' : formatCents(c.margin.cents)
const marginPercentText = (c: CustomerProfit) =>
  c.margin.percent === null ? '' : c.margin.percent.toFixed(2)

export function renderCostCsv(r: CostReport): string {
  const lines = [COST_CSV_COLUMNS.join(',')]
  for (const c of r.customers) {
    const row: Record<(typeof COST_CSV_COLUMNS)[number], unknown> = {
      customer_id: c.customerId,
      month: r.month,
      status: r.status,
      policy: r.basis,
      minutes_in_service: c.minutesInService,
      fixed_cost_percent: c.fixedCostPercent,
      fixed: formatCents(c.fixedCents),
      infrastructure: formatCents(c.infrastructureCents),
      ai: formatCents(c.aiCents),
      cost: formatCents(c.costCents),
      cost_currency: r.currency,
      fee: formatCents(c.feeCents),
      credit: formatCents(c.creditCents),
      adjustments: formatCents(c.adjustmentCents),
      net_credit: formatCents(c.netCreditCents),
      revenue: formatCents(c.revenueCents),
      plan_currency: c.planCurrency,
      margin: c.margin.cents === null ? null : formatCents(c.margin.cents),
      margin_percent: c.margin.percent === null ? null : marginPercentText(c),
      margin_status: c.margin.status,
    }
    lines.push(COST_CSV_COLUMNS.map((k) => csvField(row[k])).join(','))
  }
  return `${lines.join('\r\n')}\r\n`
}

function customerRow(r: CostReport, c: CustomerProfit): string {
  const cells = [
    c.customerId,
    c.minutesInService,
    `${formatCents(c.fixedCents)} ${r.currency}`,
    `${formatCents(c.infrastructureCents)} ${r.currency}`,
    `${formatCents(c.aiCents)} ${r.currency}`,
    `${formatCents(c.costCents)} ${r.currency}`,
    `${formatCents(c.revenueCents)} ${c.planCurrency}`,
    c.margin.cents === null ? `unmeasured (${c.margin.reason})` : `${marginText(c)} ${r.currency}`,
    c.margin.percent === null ? '—' : `${marginPercentText(c)}%`,
  ]
  return `<tr>${cells.map((x) => `<td>${esc(x)}</td>`).join('')}</tr>`
}

export function renderCostHtml(r: CostReport): string {
  const status =
    r.status === 'frozen'
      ? `Frozen at the SLA close on ${esc(r.frozenAt)}.`
      : `<strong>Provisional</strong> (${esc(r.period)}): computed ${esc(r.computedAt)}; the month's SLA close freezes it.`
  const components = r.fixed.components
    .map((c) => `<li>${esc(c.component)}: ${esc(formatCents(c.cents))} ${esc(r.currency)}</li>`)
    .join('')
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Costs ${esc(r.month)}</title>
<style>body{font-family:system-ui,sans-serif;margin:2em;color:#222}table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #bbb;padding:.3em .6em;text-align:left}@media print{body{margin:0}}</style>
</head><body>
<h1>Costs and profitability — ${esc(r.month)}</h1>
<p>${status}</p>
<p>Fixed cost ${esc(formatCents(r.fixed.totalCents))} ${esc(r.currency)}, allocated ${esc(r.basis)}${r.basis === r.policy ? '' : ` (policy ${esc(r.policy)})`}; unallocated ${esc(formatCents(r.unallocatedCents))} ${esc(r.currency)}.</p>
<ul>${components}</ul>
<table><thead><tr><th>customer</th><th>minutes in service</th><th>fixed</th><th>infrastructure</th><th>AI</th><th>cost</th><th>revenue</th><th>margin</th><th>margin %</th></tr></thead>
<tbody>${r.customers.map((c) => customerRow(r, c)).join('\n')}</tbody></table>
</body></html>
`
}
