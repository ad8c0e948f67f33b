// A month's figures per customer, from ClickHouse (uptime, runs, cost, RTO) and PostgreSQL (plans,
// maintenance, RPO samples), evaluated against each customer's plan. Read-only: the monthly close,
// the dry-run recompute and the status report all call this one function, so they agree.
import type { SlaContext } from './context.ts'
import { loadCostFigures } from './cost.ts'
import { createdAt } from './customers.ts'
import { appliesTo } from './maintenance.ts'
import { allowedDowntimeMinutes, MINUTE_MS, type Month, ratioBelow } from './months.ts'
import { resolvePlans } from './plans.ts'
import { evaluate, successRateStatus } from './policy.ts'
import { loadRpoFigures } from './rpo.ts'
import { backloggedMinutes, fullRecoveries, loadRecoveries, rtoFigures } from './rto.ts'
import { loadRunFigures } from './runs.ts'
import type { CustomerMonth, FigureSource, MonthFigures } from './schemas/figures.ts'
import { serviceStart } from './service.ts'
import { SIGNAL } from './signals.ts'
import { loadStates } from './states.ts'
import { periodsOf, uptimeFigures } from './uptime.ts'

/** `f` computed once per array (by identity). */
function once<T>(f: (x: Uint8Array) => T): (x: Uint8Array) => T {
  const seen = new Map<Uint8Array, T>()
  return (x) => {
    if (!seen.has(x)) seen.set(x, f(x))
    return seen.get(x)!
  }
}

export async function computeMonth(
  ctx: SlaContext,
  month: Month,
  customerIds: string[],
  opts: { now?: Date; source?: FigureSource } = {},
): Promise<MonthFigures> {
  const now = opts.now ?? new Date()
  const source = opts.source ?? 'rollup'
  const until = new Date(Math.min(now.getTime(), month.end.getTime()))
  const elapsed = Math.max(
    0,
    Math.min(month.minutes, Math.floor((until.getTime() - month.start.getTime()) / MINUTE_MS)),
  )
  const period = now < month.end ? 'month-to-date' : 'complete'
  const { config } = ctx
  const plans = await resolvePlans(ctx.pool, config, customerIds, month)
  const created = await createdAt(ctx.tenants, customerIds)
  const targets = new Map(
    [...plans].map(([id, p]) => [
      id,
      Object.fromEntries(Object.entries(p.plan.executionTime).map(([t, e]) => [t, e.targetMs])),
    ]),
  )
  const statesOfMonth = loadStates(
    ctx,
    month,
    new Map(customerIds.map((id) => [id, { since: created.get(id), plan: plans.get(id)!.plan }])),
    { source, elapsed },
  )
  const [states, runs, costs, recoveries, backlogged, rpo] = await Promise.all([
    statesOfMonth,
    loadRunFigures(ctx.ch, month, now, customerIds, targets, source),
    loadCostFigures(ctx.ch, ctx.prices, () => ctx.prices.currency, month, until, customerIds, source),
    // A control plane stopped inside planned factory maintenance did not fail over.
    statesOfMonth.then(({ windows }) => {
      const planned = windows
        .filter((w) => appliesTo(w, null))
        .map((w) => [Date.parse(w.start), Date.parse(w.end)])
      return loadRecoveries(ctx, month, until, customerIds, (at) =>
        planned.some(([a, b]) => at >= a! && at < b!),
      )
    }),
    backloggedMinutes(ctx.pool, month, config.backlogDrainedSeconds),
    loadRpoFigures(ctx.pool, config.rpoTargetSeconds, month),
  ])
  const computedAt = now.toISOString()
  const { windows, signals, inService, witnessed } = states
  // Shown: every window that concerns the subject (cancelled and refused too); applied: appliesTo.
  const factoryWindows = windows.filter((w) => w.customerId === null)
  const overall = uptimeFigures(month, states.factory, elapsed)
  const missing = periodsOf(
    month,
    elapsed,
    (i) => inService[i] === 1 && witnessed[i] === 1 && signals.factory[i] === SIGNAL.none,
  )
  const coverage = {
    inServiceSince: serviceStart(states.service)?.toISOString() ?? null,
    witnessedMinutes: witnessed.subarray(0, elapsed).reduce((a, x) => a + x, 0),
    missingMinutes: missing.minutes,
    missingPeriods: missing.periods,
  }
  // Customers in the same situation share their minute states (states.ts): judged once.
  const uptimeOf = once((minutes) => uptimeFigures(month, minutes, elapsed))
  const recoveriesOf = once((minutes) => fullRecoveries(month, minutes, elapsed, backlogged))
  const noProbes = new Uint8Array(month.minutes)
  const reportedOf = once((reported) => ({
    minutes: reported.subarray(0, elapsed).reduce((a, x) => a + (x === SIGNAL.none ? 0 : 1), 0),
    failed: periodsOf(month, elapsed, (i) => reported[i] === SIGNAL.down, 100),
  }))
  const customers = customerIds.map((id): CustomerMonth => {
    const { plan, version, source: planSource, effectiveFrom } = plans.get(id)!
    const mine = windows.filter((w) => w.customerId === null || w.customerId === id)
    const minutes = states.customers.get(id)!
    const up = uptimeOf(minutes)
    const reported = reportedOf(signals.customers.get(id)?.reported ?? noProbes)
    const r = runs.get(id)!
    const evaluation = evaluate(plan, { uptime: up, success: r.success, executionTime: r.executionTime })
    return {
      customerId: id,
      month: month.key,
      period,
      computedAt,
      source,
      plan: { version, source: planSource, effectiveFrom, ...plan },
      uptime: {
        ...up,
        target: plan.uptimeTarget,
        allowedDowntimeMinutes: allowedDowntimeMinutes(plan.uptimeTarget, up.eligibleMinutes),
        met: evaluation.met.uptime,
        customerProbes: {
          counted: plan.customerProbes === 'counted',
          minutes: reported.minutes,
          failedMinutes: reported.failed.minutes,
          failedPeriods: reported.failed.periods,
        },
      },
      success: {
        ...r.success,
        minimumRuns: plan.successRateMinimumRuns,
        status: successRateStatus(plan, r.success.succeeded, r.success.finished),
        target: plan.successRateTarget,
        met: evaluation.met.successRate,
      },
      jobs: r.jobs,
      executionTime: r.executionTime.map((e) => {
        const t = plan.executionTime[e.runType]
        const met = t && e.withinTarget !== null ? !ratioBelow(e.withinTarget, e.runs, t.withinPercent) : null
        return { ...e, withinPercentTarget: t?.withinPercent ?? null, met }
      }),
      rto: rtoFigures(config.rtoTargetsSeconds, [
        ...recoveries.factory,
        ...recoveries.customers.get(id)!,
        ...recoveriesOf(minutes),
      ]),
      rpo: rpo.rpo,
      telemetryFreshness: rpo.telemetryFreshness,
      cost: costs.get(id)!,
      maintenance: mine,
      evaluation,
    }
  })
  return {
    month: month.key,
    period,
    computedAt,
    source,
    overall: { uptime: overall, maintenance: factoryWindows, coverage },
    customers,
  }
}
