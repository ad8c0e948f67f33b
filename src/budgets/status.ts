// A customer's budget this month as GET /v1/customers/{id}/budget shows it: the spend read now
// against each budget, the thresholds recorded, the forecast, the policy's state and its actions.
// Read-only: thresholds are recorded and the policy acts only in the evaluation (enforce.ts).
import type { Customer } from '../tenants/index.ts'
import { type BudgetContext, budgeted, measure, monthSpan } from './enforce.ts'
import { forecast, percentSpent, THRESHOLDS } from './figures.ts'
import type { BudgetStatus } from './schemas.ts'
import { actionsOf, crossingsOf, enforcementOf } from './store.ts'

export async function budgetStatus(ctx: BudgetContext, customer: Customer, now: Date): Promise<BudgetStatus> {
  const { month, from, end } = monthSpan(customer, now)
  const id = customer.id
  const spend = budgeted(customer).length ? (await ctx.sla.spendSoFar([id], now)).get(id) : undefined
  const [crossings, e, actions] = await Promise.all([
    crossingsOf(ctx.pool, id, month),
    enforcementOf(ctx.pool, id),
    actionsOf(ctx.pool, id, month),
  ])
  const m = measure(customer, spend)
  const current = e?.month === month ? e : undefined
  return {
    customerId: id,
    month,
    asOf: now.toISOString(),
    status: m.status,
    ...(m.status === 'unmeasured' ? { reason: m.reason } : {}),
    currency: spend?.planCurrency ?? null,
    policy: customer.settings.budget?.action ?? 'notify',
    metrics:
      m.status === 'measured'
        ? m.metrics.map((x) => ({
            ...x,
            percent: percentSpent(x.spentCents, x.budgetCents),
            thresholds: THRESHOLDS.map((threshold) => {
              const hit = crossings.find(
                (c) => c.metric === x.metric && c.budgetCents === x.budgetCents && c.threshold === threshold,
              )
              return { threshold, crossedAt: hit?.crossedAt.toISOString() ?? null }
            }),
            forecast: forecast(x.spentCents, x.budgetCents, from, now, end),
          }))
        : [],
    unpriced: spend?.unpriced ?? { models: [], pools: [] },
    enforcement: current?.applied
      ? {
          state: current.applied === 'pause' ? 'paused' : 'fallback',
          since: current.appliedAt!.toISOString(),
        }
      : current?.released
        ? { state: 'released', since: current.releasedAt!.toISOString() }
        : { state: 'none', since: null },
    actions,
  }
}
