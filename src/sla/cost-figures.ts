// The two sources of a month's profitability (docs/cost.md), shared by the report (costs.ts) and
// its ClickHouse copy (cost-copy.ts): the frozen customer-months in PostgreSQL, read with their
// credits' corrections, and the provisional month computed now from the SLA figures.

import { fixedCostOfMonth } from '../pricing/index.ts'
import type { SlaContext } from './context.ts'
import { customersOfMonth } from './customers.ts'
import { computeMonth } from './figures.ts'
import { loadLedgers } from './ledger.ts'
import { FIRST_MONTH, firstDay, type Month, parseMonth } from './months.ts'
import { type Allocation, type AllocationInputs, allocate, type ProfitInput, profitOf } from './profit.ts'
import type { CustomerProfit } from './schemas/costs.ts'
import type { CustomerMonth, MonthFigures, UptimeFigures } from './schemas/figures.ts'

const SQL = {
  // Frozen customer-months of `months` (first days), with their month's currency.
  customers: `
    SELECT to_char(c.month, 'YYYY-MM') AS month, c.customer_id, c.credit_id, c.minutes_in_service,
           c.fixed_percent::float8 AS fixed_percent, c.fixed_cents, c.infrastructure_cents, c.ai_cents, c.fee_cents,
           c.credit_cents, c.plan_currency, m.currency
    FROM cost_customer_months c JOIN cost_months m USING (month)
    WHERE c.month >= $1::date AND c.month <= $2::date ORDER BY c.month, c.customer_id`,
  // Frozen months from $1 to $2 (first days): what the copy needs besides the customers.
  months: `
    SELECT to_char(month, 'YYYY-MM') AS month, currency, unallocated_cents, computed_at
    FROM cost_months WHERE month >= $1::date AND month <= $2::date ORDER BY month`,
}

/** The month `n` months before `month` (or the first month there is): a trend's or a copy's first. */
export function monthsBefore(month: Month, n: number): Month {
  const d = new Date(Date.UTC(month.start.getUTCFullYear(), month.start.getUTCMonth() - n, 1))
  return d.getUTCFullYear() < 1970 ? parseMonth(FIRST_MONTH) : parseMonth(d.toISOString().slice(0, 7))
}

/** A customer's profitability of one month, without its trend. */
export type Profit = Omit<CustomerProfit, 'trend'>

/** Minutes (to date) in service: of the factory (`overall`), or of a customer since it began. */
export const inService = (u: Pick<UptimeFigures, 'minutes' | 'notInServiceMinutes'>) =>
  u.minutes - u.notInServiceMinutes

/** A customer-month's contribution to the profitability, from its SLA figures. */
export function inputOf(
  m: CustomerMonth,
  percent: number | null,
  credit: { id: number; cents: number } | null,
): ProfitInput {
  const c = m.cost
  // Figures priced before infrastructureCents was kept: their 6-decimal infrastructure, rounded.
  const infrastructureCents =
    c.infrastructureCents ?? Math.min(c.totalCents, Math.round(c.infrastructure * 100))
  return {
    customerId: m.customerId,
    minutesInService: inService(m.uptime),
    fixedCostPercent: percent,
    infrastructureCents,
    aiCents: c.totalCents - infrastructureCents,
    feeCents: m.evaluation.feeCents,
    creditCents: credit?.cents ?? m.evaluation.creditCents,
    planCurrency: m.evaluation.currency,
    creditId: credit?.id ?? null,
  }
}

/** Each customer of the month (created before it ended) with its `fixedCostPercent` setting. */
export async function percents(ctx: SlaContext, month: Month): Promise<Map<string, number | null>> {
  const existed = await customersOfMonth(ctx.tenants, month)
  return new Map(existed.map((c) => [c.id, c.settings.fixedCostPercent]))
}

export function allocationInputs(
  ctx: SlaContext,
  month: Month,
  factoryMinutes: number,
  customers: ProfitInput[],
): AllocationInputs {
  return {
    month: month.key,
    currency: ctx.prices.currency,
    policy: ctx.prices.allocation,
    factoryMinutes,
    fixed: fixedCostOfMonth(ctx.prices, month.start, month.end),
    customers,
  }
}

interface FrozenRow {
  month: string
  customer_id: string
  credit_id: string | null
  minutes_in_service: number
  fixed_percent: number | null
  fixed_cents: string
  infrastructure_cents: string
  ai_cents: string
  fee_cents: string
  credit_cents: string
  plan_currency: string
  currency: string
}

/** Frozen customer-months from `from` to `to`, each with its credit's corrections. */
export async function frozenProfits(
  ctx: SlaContext,
  from: Month,
  to: Month,
): Promise<(Profit & { month: string })[]> {
  const { rows } = await ctx.pool.query<FrozenRow>(SQL.customers, [firstDay(from), firstDay(to)])
  const ledgers = await loadLedgers(
    ctx.pool,
    rows.filter((r) => r.credit_id !== null).map((r) => Number(r.credit_id)),
  )
  return rows.map((r) => {
    const creditId = r.credit_id === null ? null : Number(r.credit_id)
    const ledger = creditId === null ? undefined : ledgers.get(creditId)
    const creditCents = Number(r.credit_cents)
    const input: ProfitInput = {
      customerId: r.customer_id,
      minutesInService: r.minutes_in_service,
      fixedCostPercent: r.fixed_percent,
      infrastructureCents: Number(r.infrastructure_cents),
      aiCents: Number(r.ai_cents),
      feeCents: Number(r.fee_cents),
      creditCents,
      planCurrency: r.plan_currency,
      creditId,
    }
    const adjustment = ledger ? ledger.netCents - creditCents : 0
    return { month: r.month, ...profitOf(input, Number(r.fixed_cents), adjustment, r.currency) }
  })
}

/** A frozen month as a whole: its currency, what no customer carries, and its customers. */
export interface FrozenMonth {
  month: string
  currency: string
  unallocatedCents: number
  computedAt: Date
  items: Profit[]
}

/** The frozen months from `from` to `to`, oldest first (months not frozen are absent). */
export async function frozenMonths(ctx: SlaContext, from: Month, to: Month): Promise<FrozenMonth[]> {
  const [{ rows }, profits] = await Promise.all([
    ctx.pool.query<{ month: string; currency: string; unallocated_cents: string; computed_at: Date }>(
      SQL.months,
      [firstDay(from), firstDay(to)],
    ),
    frozenProfits(ctx, from, to),
  ])
  return rows.map((r) => ({
    month: r.month,
    currency: r.currency,
    unallocatedCents: Number(r.unallocated_cents),
    computedAt: r.computed_at,
    items: profits.filter((p) => p.month === r.month).map(({ month: _, ...p }) => p),
  }))
}

/** A month computed now: the shares' inputs, the allocation and each customer's profitability. */
export interface ProvisionalMonth {
  inputs: AllocationInputs
  allocation: Allocation
  items: Profit[]
}

/**
 * The month's profitability as its figures stand at `now` (no credit issued yet: the credit the
 * close would issue now). `figures`: the month's SLA figures when the caller has them already (the
 * refresh job), computed for the month's customers; else computed here.
 */
export async function provisionalMonth(
  ctx: SlaContext,
  month: Month,
  now: Date,
  figures?: MonthFigures,
): Promise<ProvisionalMonth> {
  const settings = await percents(ctx, month)
  const ids = [...settings.keys()]
  const f =
    figures ?? (ids.length && now >= month.start ? await computeMonth(ctx, month, ids, { now }) : null)
  const customers = (f?.customers ?? []).map((m) => inputOf(m, settings.get(m.customerId) ?? null, null))
  const inputs = allocationInputs(ctx, month, f ? inService(f.overall.uptime) : 0, customers)
  const allocation = allocate(inputs)
  const items = customers.map((c) =>
    profitOf(c, allocation.shares.get(c.customerId) ?? 0, 0, inputs.currency),
  )
  return { inputs, allocation, items }
}
