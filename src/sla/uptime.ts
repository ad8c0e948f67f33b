// Uptime per minute from the health signals (signals.ts), the witness and the service periods.
//
// Each minute of a month is, for the factory and for each customer, exactly one of (docs/sla.md,
// "How each figure is computed: uptime"):
// - not in service: before the installation first served (service.ts), or before the customer's
//   `since`; counted nowhere;
// - maintenance: wholly inside a planned window (a window 02:00:30–02:10 covers 02:01–02:09);
//   removed from both sides of the ratio;
// - up: a healthy control-plane heartbeat or passing probes of the factory (customer_id ''), or
//   for a customer passing probes of its own endpoints;
// - down: the factory's probes failed (every region's, or a majority: sla.probeQuorum) even while
//   the process heartbeats; only unhealthy signals; for a customer, its own probes failed; or no
//   signal at all while no witness saw an instance serving (neither store shows life);
// Signals are facts when Steward or the operator said them (`provenance` 'steward' | 'operator');
// probes a customer sent with its own token are its evidence, counted only when its plan opts in.
// - unmeasured: no signal in ClickHouse, but the witness saw an instance serve the whole minute:
//   the telemetry of that minute is missing, which is not downtime. Removed from both sides of
//   the ratio, and a month with such minutes is held at close (close.ts).
import { DAY_MS, MINUTE_MS, percentOf, type Span } from './months.ts'
import type { DailyUptime, DowntimePeriod, UptimeFigures } from './schemas/figures.ts'
import { SIGNAL } from './signals.ts'

/** A customer's signal per minute: its own probes decide where they exist, the factory's elsewhere. */
export function customerSignal(factory: Uint8Array, own?: Uint8Array): Uint8Array {
  if (!own) return factory
  const out = new Uint8Array(factory.length)
  for (let i = 0; i < out.length; i++) out[i] = own[i] !== SIGNAL.none ? own[i]! : factory[i]!
  return out
}

/** A maintenance window as the uptime computation sees it. */
export interface Window {
  start: Date
  end: Date
}

/** Marks minutes wholly inside a window. */
export function maintenanceMask(month: Span, windows: Window[]): Uint8Array {
  const mask = new Uint8Array(month.minutes)
  const t0 = month.start.getTime()
  for (const w of windows) {
    const first = Math.max(0, Math.ceil((w.start.getTime() - t0) / MINUTE_MS))
    const last = Math.min(month.minutes, Math.floor((w.end.getTime() - t0) / MINUTE_MS))
    for (let i = first; i < last; i++) mask[i] = 1
  }
  return mask
}

/** What a minute was for one subject (the factory or a customer). */
export const STATE = { notInService: 0, maintenance: 1, unmeasured: 2, up: 3, down: 4 } as const

export interface MinuteInputs {
  signal: Uint8Array
  inService: Uint8Array
  maintenance: Uint8Array
  witnessed: Uint8Array
}

/** Each minute's state (STATE); minutes from `elapsed` on are not judged (month to date). */
export function classifyMinutes(x: MinuteInputs, elapsed = x.signal.length): Uint8Array {
  const out = new Uint8Array(x.signal.length)
  for (let i = 0; i < Math.min(elapsed, out.length); i++) {
    if (!x.inService[i]) out[i] = STATE.notInService
    else if (x.maintenance[i]) out[i] = STATE.maintenance
    else if (x.signal[i] === SIGNAL.up) out[i] = STATE.up
    else if (x.signal[i] === SIGNAL.down) out[i] = STATE.down
    else out[i] = x.witnessed[i] ? STATE.unmeasured : STATE.down
  }
  return out
}

const isoAt = (month: Span, i: number) => new Date(month.start.getTime() + i * MINUTE_MS).toISOString()

/** Runs of consecutive minutes for which `test` holds: count, and the first `limit` as periods. */
export function periodsOf(
  month: Span,
  n: number,
  test: (i: number) => boolean,
  limit = 500,
): { count: number; minutes: number; periods: DowntimePeriod[] } {
  const periods: DowntimePeriod[] = []
  let count = 0
  let minutes = 0
  let start = -1
  for (let i = 0; i <= n; i++) {
    const hit = i < n && test(i)
    if (hit) minutes++
    if (hit && start < 0) start = i
    if (!hit && start >= 0) {
      count++
      if (periods.length < limit)
        periods.push({ start: isoAt(month, start), end: isoAt(month, i), minutes: i - start })
      start = -1
    }
  }
  return { count, minutes, periods }
}

/** The month's uptime figures from the minute states (`elapsed`: minutes judged so far). */
export function uptimeFigures(month: Span, states: Uint8Array, elapsed = month.minutes): UptimeFigures {
  const n = Math.min(elapsed, month.minutes)
  const counts = [0, 0, 0, 0, 0]
  const daily: DailyUptime[] = []
  let dayEligible = 0
  let dayDown = 0
  for (let i = 0; i < n; i++) {
    const s = states[i]!
    counts[s]!++
    if (s === STATE.up || s === STATE.down) dayEligible++
    if (s === STATE.down) dayDown++
    if ((i + 1) % 1440 === 0 || i + 1 === n) {
      daily.push({
        day: new Date(month.start.getTime() + Math.floor(i / 1440) * DAY_MS).toISOString().slice(0, 10),
        eligibleMinutes: dayEligible,
        downMinutes: dayDown,
        percent: percentOf(dayEligible - dayDown, dayEligible),
      })
      dayEligible = 0
      dayDown = 0
    }
  }
  const down = periodsOf(month, n, (i) => states[i] === STATE.down)
  const up = counts[STATE.up]!
  const eligible = up + counts[STATE.down]!
  return {
    percent: percentOf(up, eligible),
    minutes: n,
    maintenanceMinutes: counts[STATE.maintenance]!,
    notInServiceMinutes: counts[STATE.notInService]!,
    unmeasuredMinutes: counts[STATE.unmeasured]!,
    eligibleMinutes: eligible,
    upMinutes: up,
    downMinutes: counts[STATE.down]!,
    downtimePeriods: down.periods,
    downtimePeriodCount: down.count,
    daily,
  }
}
