// What each customer has spent so far this month (budgets, docs/cost.md "Budgets"): its variable
// cost to `now`, priced exactly as the month's figures price it (cost.ts, from the rollups), with
// the currency of the plan in force, in which its budget is set.
import type { SlaContext } from './context.ts'
import { loadCostFigures } from './cost.ts'
import { monthOf } from './months.ts'
import { resolvePlans } from './plans.ts'

export interface MonthSpend {
  /** YYYY-MM of `now`. */
  month: string
  /** The currency of the costs (the price list's, the reporting currency). */
  currency: string
  /** The currency of the customer's plan in force this month. */
  planCurrency: string
  infrastructureCents: number
  aiCents: number
  /** infrastructureCents + aiCents. */
  totalCents: number
  /** Usage of this month that no price covers (priced at 0: the figures are a lower bound). */
  unpriced: { models: string[]; pools: string[] }
}

/** The month-to-date variable cost of each of `customerIds`; throws when ClickHouse fails. */
export async function spendSoFar(
  ctx: SlaContext,
  customerIds: string[],
  now: Date,
): Promise<Map<string, MonthSpend>> {
  const month = monthOf(now)
  const [plans, costs] = await Promise.all([
    resolvePlans(ctx.pool, ctx.config, customerIds, month),
    loadCostFigures(ctx.ch, ctx.prices, () => ctx.prices.currency, month, now, customerIds),
  ])
  return new Map(
    customerIds.map((id) => {
      const c = costs.get(id)!
      const infrastructureCents = c.infrastructureCents ?? 0
      return [
        id,
        {
          month: month.key,
          currency: c.currency,
          planCurrency: plans.get(id)!.plan.currency,
          infrastructureCents,
          aiCents: c.totalCents - infrastructureCents,
          totalCents: c.totalCents,
          unpriced: c.unpriced,
        },
      ]
    }),
  )
}
