// Turning a month's figures into a credit under a plan: tiers per metric, summed, capped.
// Pure and exact: thresholds are compared on integers (months.ts ratioBelow), amounts in cents,
// rounded once per customer-month (money.ts).
import { percentOfCents } from './money.ts'
import { ratioBelow } from './months.ts'
import type { Evaluation, TierHit } from './schemas/figures.ts'
import type { Plan } from './schemas/plan.ts'

export interface PolicyInputs {
  uptime: { upMinutes: number; eligibleMinutes: number }
  /** `finished`: the runs that count (runs.ts); below the plan's minimum, no credit. */
  success: { succeeded: number; finished: number }
  executionTime: { runType: string; runs: number; withinTarget: number | null }[]
}

/** The tier with the highest credit whose threshold num/den is below (exactly). */
function tierFor(tiers: Plan['tiers']['uptime'], num: number, den: number) {
  let hit: { below: number; credit: number } | undefined
  for (const t of tiers) if (ratioBelow(num, den, t.below) && (!hit || t.credit > hit.credit)) hit = t
  return hit
}

/**
 * Whether `succeeded` of `finished` counted runs meet the plan's success-rate target; fewer than the
 * plan's minimum (and always none) is insufficient data, which earns no credit.
 */
export function successRateStatus(plan: Plan, succeeded: number, finished: number) {
  if (finished < Math.max(1, plan.successRateMinimumRuns)) return 'insufficient_data' as const
  return ratioBelow(succeeded, finished, plan.successRateTarget) ? ('missed' as const) : ('met' as const)
}

export function evaluate(plan: Plan, f: PolicyInputs): Evaluation {
  const tiers: TierHit[] = []
  const { upMinutes, eligibleMinutes } = f.uptime
  const uptimeMet = eligibleMinutes === 0 || !ratioBelow(upMinutes, eligibleMinutes, plan.uptimeTarget)
  const u = eligibleMinutes ? tierFor(plan.tiers.uptime, upMinutes, eligibleMinutes) : undefined
  if (u) {
    tiers.push({
      metric: 'uptime',
      detail: `${upMinutes}/${eligibleMinutes} minutes up`,
      below: u.below,
      creditPercent: u.credit,
    })
  }
  const { succeeded, finished } = f.success
  const successStatus = successRateStatus(plan, succeeded, finished)
  const successMet = successStatus !== 'missed'
  const s = successStatus === 'missed' ? tierFor(plan.tiers.successRate, succeeded, finished) : undefined
  if (s) {
    tiers.push({
      metric: 'success_rate',
      detail: `${succeeded}/${finished} runs succeeded`,
      below: s.below,
      creditPercent: s.credit,
    })
  }
  const breached: string[] = []
  for (const [runType, target] of Object.entries(plan.executionTime)) {
    const e = f.executionTime.find((x) => x.runType === runType)
    if (!e || e.runs === 0 || e.withinTarget === null) continue
    if (ratioBelow(e.withinTarget, e.runs, target.withinPercent)) {
      breached.push(`${runType}: ${e.withinTarget}/${e.runs} within ${target.targetMs} ms`)
    }
  }
  if (breached.length && plan.tiers.executionTime > 0) {
    tiers.push({
      metric: 'execution_time',
      detail: breached.join('; '),
      below: null,
      creditPercent: plan.tiers.executionTime,
    })
  }
  const uncapped = tiers.reduce((a, t) => a + t.creditPercent, 0)
  const creditPercent = Math.min(uncapped, plan.capPercent)
  // The fee as the plan writes it (333.33), in cents: the one rounding of a fee, half up.
  const feeCents = Math.round(plan.monthlyFee * 100)
  return {
    met: { uptime: uptimeMet, successRate: successMet, executionTime: breached.length === 0 },
    tiers,
    uncappedPercent: uncapped,
    creditPercent,
    capped: uncapped > creditPercent,
    feeCents,
    creditCents: percentOfCents(feeCents, creditPercent),
    currency: plan.currency,
  }
}
