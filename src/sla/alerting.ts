// What the incidents' burn-rate rules judge, taken from the SLA engine so that an alert and a
// credit never disagree about what a down minute or a target is (docs/incidents.md, "SLOs from
// the plans"):
// - each customer's SLOs are the targets of the plan in force this month (uptime and success rate);
// - the factory's uptime SLO is the strictest plan's (its budget runs out first), or the default
//   plan's when there is no customer;
// - the factory's minutes over a window are classified exactly as the monthly figures classify
//   them (states.ts): a silent minute the witness saw served is unmeasured, not down.
import type { SlaContext } from './context.ts'
import { customersOfMonth } from './customers.ts'
import { MINUTE_MS, monthOf } from './months.ts'
import { resolvePlans } from './plans.ts'
import { loadStates } from './states.ts'
import { STATE } from './uptime.ts'

export interface AlertTargets {
  /** Per customer, its plan's targets as fractions (99.9 % → 0.999). */
  customers: Map<string, { uptime: number; successRate: number }>
  /** The factory's uptime SLO: the strictest customer's, or the default plan's. */
  factoryUptime: number
}

/** A plan's percentage as a fraction, as written: 99.9 → 0.999 (not 0.9990000000000001). */
const fraction = (percent: number) => Number((percent / 100).toFixed(10))

export async function alertTargets(ctx: SlaContext, now: Date): Promise<AlertTargets> {
  const month = monthOf(now)
  const ids = (await customersOfMonth(ctx.tenants, month)).map((c) => c.id)
  const plans = await resolvePlans(ctx.pool, ctx.config, ids, month)
  const customers = new Map(
    [...plans].map(([id, p]) => [
      id,
      { uptime: fraction(p.plan.uptimeTarget), successRate: fraction(p.plan.successRateTarget) },
    ]),
  )
  const strictest = Math.max(0, ...[...customers.values()].map((c) => c.uptime))
  return { customers, factoryUptime: strictest || fraction(ctx.config.defaultPlan.uptimeTarget) }
}

/** Per minute of [from, to) (whole minutes): 'up', 'down', or null when not judged. */
export type MinuteVerdict = 'up' | 'down' | null

export async function factoryMinutes(ctx: SlaContext, from: Date, to: Date): Promise<MinuteVerdict[]> {
  const span = {
    start: from,
    end: to,
    minutes: Math.max(0, Math.round((to.getTime() - from.getTime()) / MINUTE_MS)),
  }
  const { factory } = await loadStates(ctx, span, new Map())
  return Array.from(factory, (s) => (s === STATE.up ? 'up' : s === STATE.down ? 'down' : null))
}
