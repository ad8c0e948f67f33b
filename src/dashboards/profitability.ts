// Profitability panels of the cost dashboard: revenue, fixed and variable cost and margin per
// customer and month from cost_monthly, the SLA engine's copy of GET /v1/costs
// (schemas/clickhouse/080_cost_monthly.sql, src/sla/cost-copy.ts), in integer cents shown in units.
// A month counts when the range touches it; customer '' is the fixed cost no customer carries.
import type { ClickHousePanel } from './builder.ts'
import { filters, MONTHS_IN_RANGE } from './sql.ts'

/** cost_monthly rows of the customers selected, in the months the range touches (customer '': unallocated). */
const profitRows = `FROM cost_monthly FINAL
WHERE ${MONTHS_IN_RANGE} AND ${filters(['customer'])}`
/** Margin as % of revenue, truncated toward zero to 2 decimals (as GET /v1/costs), null unless revenue > 0. */
const marginPercent = (margin: string, revenue: string) =>
  `if(${revenue} > 0, intDiv(${margin} * 10000, ${revenue}) / 100, NULL)`

export const profitabilityPanels: readonly ClickHousePanel[] = [
  {
    source: 'clickhouse',
    type: 'table',
    title: 'Profitability per customer',
    description:
      'Per customer over the months the range touches: revenue (fee - credits net of corrections, plan currency), cost (its share of the fixed cost + infrastructure + AI), margin and margin % (null when a month is unmeasured: plan in another currency). Frozen at the SLA close, provisional before.',
    decimals: 2,
    w: 12,
    format: 'table',
    columns: [
      'customer_id',
      'months',
      'status',
      'revenue',
      'plan_currency',
      'cost',
      'currency',
      'margin',
      'margin_percent',
    ],
    sql: `SELECT customer_id, count() AS months, if(countIf(status != 'frozen') = 0, 'frozen', 'provisional') AS status,
    sum(revenue_cents) / 100 AS revenue, plan_currency, sum(cost_cents) / 100 AS cost, currency,
    if(countIf(margin_status != 'measured') = 0, sum(margin_cents) / 100, NULL) AS margin,
    if(countIf(margin_status != 'measured') = 0, ${marginPercent('sum(margin_cents)', 'sum(revenue_cents)')}, NULL) AS margin_percent
${profitRows} AND customer_id != ''
GROUP BY customer_id, plan_currency, currency
ORDER BY customer_id, plan_currency`,
  },
  {
    source: 'clickhouse',
    type: 'barchart',
    title: 'Revenue, cost and margin per customer',
    description:
      'Revenue, cost and margin per customer over the months the range touches, for the months whose margin is measured (plan in the cost currency).',
    decimals: 2,
    w: 12,
    format: 'table',
    columns: ['customer_id', 'revenue', 'cost', 'margin'],
    sql: `SELECT customer_id, sum(revenue_cents) / 100 AS revenue, sum(cost_cents) / 100 AS cost, sum(margin_cents) / 100 AS margin
${profitRows} AND customer_id != '' AND margin_status = 'measured'
GROUP BY customer_id
ORDER BY margin DESC, customer_id`,
  },
  {
    source: 'clickhouse',
    type: 'barchart',
    bars: true,
    title: 'Fixed and variable cost per month',
    description:
      "Per month: the fixed cost (the customers' shares, and with all customers selected the part no customer carries), infrastructure (worker-seconds) and AI (tokens), stacked, in the cost currency.",
    decimals: 2,
    w: 12,
    format: 'table',
    columns: ['calendar_month', 'fixed', 'infrastructure', 'ai'],
    // Text, not the Date: the bars are one group per month (and an alias named month would shadow the column).
    sql: `SELECT formatDateTime(month, '%Y-%m') AS calendar_month, sum(fixed_cents) / 100 AS fixed,
    sum(infrastructure_cents) / 100 AS infrastructure, sum(ai_cents) / 100 AS ai
${profitRows}
GROUP BY calendar_month
ORDER BY calendar_month`,
  },
  {
    source: 'clickhouse',
    type: 'table',
    title: 'Profitability by customer and month',
    description:
      'Each customer-month as GET /v1/costs reports it: its fixed share, infrastructure and AI cost, fee, net credit, revenue, margin and margin %, frozen at the SLA close or provisional.',
    decimals: 2,
    w: 12,
    format: 'table',
    columns: [
      'month',
      'customer_id',
      'status',
      'fixed',
      'infrastructure',
      'ai',
      'cost',
      'currency',
      'fee',
      'net_credit',
      'revenue',
      'plan_currency',
      'margin',
      'margin_percent',
      'margin_status',
    ],
    sql: `SELECT month, customer_id, status, fixed_cents / 100 AS fixed, infrastructure_cents / 100 AS infrastructure,
    ai_cents / 100 AS ai, cost_cents / 100 AS cost, currency, fee_cents / 100 AS fee, net_credit_cents / 100 AS net_credit,
    revenue_cents / 100 AS revenue, plan_currency, margin_cents / 100 AS margin, margin_percent, margin_status
${profitRows} AND customer_id != ''
ORDER BY month DESC, customer_id`,
  },
]
