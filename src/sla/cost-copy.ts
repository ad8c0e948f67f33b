// The ClickHouse copy of each month's profitability, `cost_monthly`
// (schemas/clickhouse/080_cost_monthly.sql), which the Grafana cost dashboard reads. PostgreSQL is
// the record (costs.ts); this copy is derived from it and may be rewritten at any time.
//
// Guarantees:
// - the same figures as GET /v1/costs, to the cent: frozen months from cost_months and
//   cost_customer_months with their credits' corrections (cost-figures.ts, as the report reads
//   them), the current month from the figures the refresh job computed, allocated as the report
//   allocates them; plus one row (customer '') per month for the fixed cost no customer carries;
// - idempotent: one row per (month, customer) once merged; a re-write replaces it, never adds one
//   (ReplacingMergeTree on `version`, read FINAL), and frozen rows always replace provisional ones;
// - written when the close freezes a month; a failure there is logged and the freeze stands;
// - caught up by every sla.refresh, which writes the current month (provisional), the month before
//   while it is not frozen (provisional, complete), and every frozen month of the 12 before the
//   current one. Frozen months are rewritten each time, not compared first: a correction of a
//   credit moves revenue, and a copy missed at the freeze (ClickHouse down) or lost with its table
//   is repaired by the same write, within one refresh.
import type { ClickHouseClient } from '../db/clickhouse.ts'
import type { SlaContext } from './context.ts'
import {
  type FrozenMonth,
  frozenMonths,
  monthsBefore,
  type Profit,
  type ProvisionalMonth,
  provisionalMonth,
} from './cost-figures.ts'
import { FIRST_MONTH, type Month, parseMonth, previousMonth } from './months.ts'
import type { MonthFigures } from './schemas/figures.ts'

/** Added to a frozen row's version: it outranks every provisional row (versions are milliseconds). */
const FROZEN_RANK = 2 ** 43

/** One row of cost_monthly: money in integer cents, costs in `currency`, revenue in `plan_currency`. */
interface CostMonthlyRow {
  month: string
  customer_id: string
  status: 'frozen' | 'provisional'
  fixed_cents: number
  infrastructure_cents: number
  ai_cents: number
  cost_cents: number
  fee_cents: number
  net_credit_cents: number
  revenue_cents: number
  margin_cents: number | null
  margin_percent: number | null
  currency: string
  plan_currency: string
  margin_status: 'measured' | 'unmeasured' | 'unallocated'
  computed_at: string
  version: number
}

/** A month as copied: its customers' profitability and the fixed cost none of them carries. */
interface MonthCopy {
  month: string
  status: CostMonthlyRow['status']
  currency: string
  unallocatedCents: number
  items: Profit[]
  computedAt: Date
  version: number
}

const chTime = (d: Date) => d.toISOString().replace('T', ' ').replace('Z', '')

/** The cost_monthly rows of one month: each customer's, then the unallocated fixed cost (''). */
function costMonthlyRows(c: MonthCopy): CostMonthlyRow[] {
  const base = {
    month: `${c.month}-01`,
    status: c.status,
    currency: c.currency,
    computed_at: chTime(c.computedAt),
    version: c.version,
  }
  return [
    ...c.items.map((p) => ({
      ...base,
      customer_id: p.customerId,
      fixed_cents: p.fixedCents,
      infrastructure_cents: p.infrastructureCents,
      ai_cents: p.aiCents,
      cost_cents: p.costCents,
      fee_cents: p.feeCents,
      net_credit_cents: p.netCreditCents,
      revenue_cents: p.revenueCents,
      margin_cents: p.margin.cents,
      margin_percent: p.margin.percent,
      plan_currency: p.planCurrency,
      margin_status: p.margin.status,
    })),
    {
      ...base,
      customer_id: '',
      fixed_cents: c.unallocatedCents,
      infrastructure_cents: 0,
      ai_cents: 0,
      cost_cents: c.unallocatedCents,
      fee_cents: 0,
      net_credit_cents: 0,
      revenue_cents: 0,
      margin_cents: null,
      margin_percent: null,
      plan_currency: '',
      margin_status: 'unallocated' as const,
    },
  ]
}

const frozenCopy = (f: FrozenMonth, writtenAt: Date): MonthCopy => ({
  ...f,
  status: 'frozen',
  version: FROZEN_RANK + writtenAt.getTime(),
})

const provisionalCopy = (month: Month, p: ProvisionalMonth, now: Date): MonthCopy => ({
  month: month.key,
  status: 'provisional',
  currency: p.inputs.currency,
  unallocatedCents: p.allocation.unallocatedCents,
  items: p.items,
  computedAt: now,
  version: now.getTime(),
})

async function writeCostMonthly(ch: ClickHouseClient, copies: MonthCopy[]): Promise<void> {
  const values = copies.flatMap(costMonthlyRows)
  // No deduplication token: the table keeps no deduplication window, and a re-write is meant to land.
  if (values.length) await ch.insert({ table: 'cost_monthly', values, format: 'JSONEachRow' })
}

/**
 * Copies a frozen month to ClickHouse (the close, after freezing it). A failure is logged, not
 * thrown: the freeze is committed and the next sla.refresh writes the copy. True when written.
 */
export async function copyFrozenMonth(
  ctx: SlaContext,
  month: Month,
  writtenAt = new Date(),
): Promise<boolean> {
  try {
    await writeCostMonthly(
      ctx.ch,
      (await frozenMonths(ctx, month, month)).map((f) => frozenCopy(f, writtenAt)),
    )
    return true
  } catch (err) {
    ctx.log?.warn('cost_monthly copy failed; the next sla.refresh writes it', {
      month: month.key,
      error: (err as Error).message,
    })
    return false
  }
}

/**
 * The refresh job's part: `current` is the month-to-date figures it computed at `now`. Writes the
 * current month provisional, the month before provisional while it is not frozen, and every frozen
 * month of the 12 before, in one insert. Throws when ClickHouse does (the job's run records it).
 */
export async function syncCostCopy(
  ctx: SlaContext,
  current: MonthFigures,
  now: Date,
): Promise<{ frozen: string[]; provisional: string[] }> {
  const month = parseMonth(current.month)
  const frozen = await frozenMonths(ctx, monthsBefore(month, 12), month)
  const writtenAt = new Date()
  const copies = frozen.map((f) => frozenCopy(f, writtenAt))
  const done = new Set(frozen.map((f) => f.month))
  const open: MonthCopy[] = []
  const previous = month.key === FIRST_MONTH ? null : previousMonth(month)
  const closes = (m: Month) => !ctx.config.firstMonth || m.key >= ctx.config.firstMonth
  // An ended month waits for its close (normally within the hour; a held month for an admin); a
  // month before sla.firstMonth is never closed, so it is not computed again and again either.
  if (previous && !done.has(previous.key) && closes(previous))
    open.push(provisionalCopy(previous, await provisionalMonth(ctx, previous, now), now))
  if (!done.has(month.key))
    open.push(provisionalCopy(month, await provisionalMonth(ctx, month, now, current), now))
  await writeCostMonthly(ctx.ch, [...copies, ...open])
  return { frozen: [...done], provisional: open.map((c) => c.month) }
}
