// Evaluating budgets (docs/cost.md, "Budgets"): each minute, and at once after an admin's action.
//
// Guarantees:
// - a threshold (50, 80, 100% of a budget) is recorded once per customer, month, metric and
//   budget amount, and its notice and telemetry event (type `budget`) are queued in the same
//   transaction: crossed once, one notice, one event, however many evaluations or instances see it;
// - at 100% the policy acts (`fallback` or `pause`; `notify` only notifies), in the transaction
//   that records the action and its event, and is lifted, recorded, when the spend is under the budget again (a
//   budget raised or removed), the policy changes, the month turns, or an admin releases it;
// - nothing is guessed: a customer whose plan currency is not the costs' is `unmeasured` and its
//   state is left as it is; when ClickHouse cannot say what was spent the evaluation fails and
//   changes nothing; priced usage is a lower bound when some usage has no price (`unpriced`);
// - one customer's failure does not stop the others' evaluation.
import { type Pool, type Queryable, transaction } from '../db/postgres.ts'
import { appendEvents } from '../ingest/index.ts'
import { queueCustomerNotification } from '../notify/index.ts'
import type { ControlReason, OrchestratorModule } from '../orchestrator/index.ts'
import { formatCents, type MonthSpend, monthOf, type SlaModule } from '../sla/index.ts'
import type { Customer, TenantsModule } from '../tenants/index.ts'
import {
  type BudgetMetric,
  budgetCents,
  crossedThresholds,
  forecast,
  METRICS,
  type Threshold,
} from './figures.ts'
import type { BudgetNotice } from './schemas.ts'
import {
  appendAction,
  customersWithActions,
  type Enforcement,
  lockEnforcement,
  recordCrossing,
  saveEnforcement,
} from './store.ts'

export interface BudgetContext {
  pool: Pool
  tenants: Pick<TenantsModule, 'customers'>
  sla: Pick<SlaModule, 'spendSoFar'>
  orchestrator: Pick<OrchestratorModule, 'setCustomerControl'>
  /** Called once per threshold recorded (a metric). */
  onCrossing?: (metric: BudgetMetric, threshold: Threshold) => void
}

/**
 * The month of `now` (YYYY-MM), where its forecast counts from (the month's start, or the
 * customer's own start when later) and where it ends.
 */
export function monthSpan(customer: Pick<Customer, 'createdAt'>, now: Date) {
  const m = monthOf(now)
  return {
    month: m.key,
    from: new Date(Math.max(m.start.getTime(), Date.parse(customer.createdAt))),
    end: m.end,
  }
}

export const METRIC_LABEL: Record<BudgetMetric, string> = { aiTokens: 'AI tokens', total: 'total cost' }

export interface MeasuredMetric {
  metric: BudgetMetric
  budgetCents: number
  spentCents: number
}

export type Measure =
  | { status: 'none' }
  | { status: 'unmeasured'; reason: string }
  | { status: 'measured'; metrics: MeasuredMetric[] }

/** The metrics a customer has a budget on. */
export const budgeted = (c: Customer): BudgetMetric[] =>
  METRICS.filter((m) => c.settings.budget?.[m] !== undefined)

/** A customer's budgets against its spend (the spend is absent when it has no budget). */
export function measure(customer: Customer, spend: MonthSpend | undefined): Measure {
  const b = customer.settings.budget
  const set = budgeted(customer)
  if (!b || !set.length || !spend) return { status: 'none' }
  if (spend.planCurrency !== spend.currency)
    return {
      status: 'unmeasured',
      reason: `the budget is in ${spend.planCurrency} (the plan's currency) and costs are in ${spend.currency}; no exchange rate is configured`,
    }
  return {
    status: 'measured',
    metrics: set.map((metric) => ({
      metric,
      budgetCents: budgetCents(b[metric]!),
      spentCents: metric === 'aiTokens' ? spend.aiCents : spend.totalCents,
    })),
  }
}

const reachedOf = (m: Measure) =>
  m.status === 'measured' ? m.metrics.find((x) => x.spentCents >= x.budgetCents) : undefined

function why(x: MeasuredMetric, currency: string, month: string): ControlReason {
  return {
    by: 'budget',
    detail: `budget reached: ${METRIC_LABEL[x.metric]} ${formatCents(x.spentCents)} ${currency} of a ${formatCents(x.budgetCents)} ${currency} budget for ${month}`,
  }
}

/** An action appended to `budget_actions`, and its telemetry event, in the caller's transaction. */
async function recordAction(
  db: Queryable,
  a: Parameters<typeof appendAction>[1] & { metric?: MeasuredMetric },
): Promise<void> {
  await appendAction(db, a)
  await appendEvents(db, [
    {
      type: 'budget',
      customerId: a.customerId,
      action: a.action,
      cause: a.cause,
      ts: a.at.toISOString(),
      ...(a.metric
        ? { metric: a.metric.metric, budgetCents: a.metric.budgetCents, spentCents: a.metric.spentCents }
        : {}),
    },
  ])
}

/** A new month for the enforcement: the last month's action lifted (recorded), nothing released. */
async function turnMonth(
  ctx: BudgetContext,
  db: Queryable,
  customerId: string,
  e: Enforcement,
  month: string,
  now: Date,
): Promise<Enforcement> {
  if (e.month === month) return e
  if (e.applied) {
    await ctx.orchestrator.setCustomerControl(customerId, { hold: null, fallback: null }, db)
    await appendAction(db, {
      customerId,
      month,
      action: 'lift',
      cause: 'month turned',
      actor: 'steward',
      reason: null,
      at: now,
    })
  }
  return { month, applied: null, appliedAt: null, released: false, releasedAt: null }
}

interface Outcome {
  crossed: number
  acted: boolean
}

/** Evaluates one customer in one transaction (see the guarantees above). */
async function evaluateCustomer(
  ctx: BudgetContext,
  customer: Customer,
  spend: MonthSpend | undefined,
  now: Date,
): Promise<Outcome> {
  const { month, from, end } = monthSpan(customer, now)
  const id = customer.id
  return transaction(ctx.pool, async (db) => {
    let e = await turnMonth(ctx, db, id, await lockEnforcement(db, id, month), month, now)
    const m = measure(customer, spend)
    const policy = customer.settings.budget?.action ?? 'notify'
    let crossed = 0
    if (m.status === 'measured' && spend) {
      for (const x of m.metrics)
        for (const threshold of crossedThresholds(x.spentCents, x.budgetCents)) {
          const at = { customerId: id, month, threshold, ...x, at: now }
          if (!(await recordCrossing(db, at))) continue
          crossed++
          ctx.onCrossing?.(x.metric, threshold)
          await appendEvents(db, [
            {
              type: 'budget',
              customerId: id,
              action: 'threshold',
              metric: x.metric,
              threshold,
              budgetCents: x.budgetCents,
              spentCents: x.spentCents,
              ts: now.toISOString(),
            },
          ])
          const f = forecast(x.spentCents, x.budgetCents, from, now, end)
          const payload: BudgetNotice = {
            month,
            metric: x.metric,
            threshold,
            currency: spend.planCurrency,
            budget: formatCents(x.budgetCents),
            spent: formatCents(x.spentCents),
            budgetCents: x.budgetCents,
            spentCents: x.spentCents,
            policy,
            forecast: { monthEnd: formatCents(f.monthEndCents), reachesBudgetAt: f.reachesBudgetAt },
            status: `/v1/customers/${encodeURIComponent(id)}/budget`,
          }
          await queueCustomerNotification(db, {
            customerId: id,
            kind: 'budget.threshold',
            dedupKey: `budget:${month}:${x.metric}:${x.budgetCents}:${threshold}`,
            payload,
          })
        }
    }
    const reached = reachedOf(m)
    // Unmeasured: nothing to decide on; whatever is in force stays until it can be measured.
    const desired =
      m.status === 'unmeasured' ? e.applied : reached && policy !== 'notify' && !e.released ? policy : null
    let acted = false
    if (desired !== e.applied) {
      acted = true
      const reason = reached && spend ? why(reached, spend.planCurrency, month) : null
      await ctx.orchestrator.setCustomerControl(
        id,
        { hold: desired === 'pause' ? reason : null, fallback: desired === 'fallback' ? reason : null },
        db,
      )
      const cause = desired
        ? 'budget reached'
        : m.status === 'none'
          ? 'budget removed'
          : reached
            ? 'policy changed'
            : 'budget raised'
      await recordAction(db, {
        customerId: id,
        month,
        action: desired ?? 'lift',
        cause,
        actor: 'steward',
        reason: desired ? reason!.detail : null,
        at: now,
        metric: reached,
      })
      e = { ...e, applied: desired, appliedAt: desired ? now : null }
    }
    await saveEnforcement(db, id, e)
    return { crossed, acted }
  })
}

export interface EvaluationSummary {
  customers: number
  crossed: number
  actions: number
  failed: { customerId: string; error: string }[]
}

/**
 * Evaluates the budgets of every customer with one (or `only`), and lifts the actions of customers
 * whose budget is gone. Throws, changing nothing, when the spend cannot be read.
 */
export async function evaluateBudgets(
  ctx: BudgetContext,
  now: Date,
  only?: string,
): Promise<EvaluationSummary> {
  const customers = await ctx.tenants.customers(only)
  const acting = new Set(only ? [] : await customersWithActions(ctx.pool))
  const withBudget = customers.filter((c) => budgeted(c).length > 0)
  const spend = withBudget.length
    ? await ctx.sla.spendSoFar(
        withBudget.map((c) => c.id),
        now,
      )
    : new Map<string, MonthSpend>()
  const due = customers.filter((c) => spend.has(c.id) || acting.has(c.id) || c.id === only)
  const summary: EvaluationSummary = { customers: due.length, crossed: 0, actions: 0, failed: [] }
  for (const c of due) {
    try {
      const o = await evaluateCustomer(ctx, c, spend.get(c.id), now)
      summary.crossed += o.crossed
      if (o.acted) summary.actions++
    } catch (err) {
      summary.failed.push({ customerId: c.id, error: (err as Error).message })
    }
  }
  return summary
}

/**
 * An admin's action: `release` lifts the policy's action for the rest of the month; `enforce`
 * withdraws a release (the policy acts again at once if the budget is reached). Recorded.
 */
export async function adminAction(
  ctx: BudgetContext,
  customerId: string,
  action: 'release' | 'enforce',
  reason: string,
  now: Date,
): Promise<void> {
  const month = monthOf(now).key
  await transaction(ctx.pool, async (db) => {
    let e = await turnMonth(ctx, db, customerId, await lockEnforcement(db, customerId, month), month, now)
    if (action === 'release') {
      if (e.applied) await ctx.orchestrator.setCustomerControl(customerId, { hold: null, fallback: null }, db)
      e = { ...e, applied: null, appliedAt: null, released: true, releasedAt: now }
    } else e = { ...e, released: false, releasedAt: null }
    await recordAction(db, { customerId, month, action, cause: 'admin', actor: 'admin', reason, at: now })
    await saveEnforcement(db, customerId, e)
  })
  if (action === 'enforce') await evaluateBudgets(ctx, now, customerId)
}
