// The factory's uptime per UTC day over a trailing window (the public status page's bars).
//
// Guarantees: the same minute rules as the monthly figures (uptime.ts: not in service before the
// factory first served or imported history, a minute no store shows life in is down, factory
// maintenance and unmeasured minutes are excluded): days with no minute in service are "no data",
// never down. The newest minutes are not judged yet (the relay needs a moment to ship them).
import type { SlaContext } from './context.ts'
import { DAY_MS, MINUTE_MS, monthOf, monthsBetween, percentOf } from './months.ts'
import { loadService, serviceStart } from './service.ts'
import { loadStates } from './states.ts'
import { uptimeFigures } from './uptime.ts'
/** Minutes at the end of the window that are not judged yet (telemetry still on its way). */
export const UNJUDGED_MINUTES = 2

export interface FactoryDay {
  /** YYYY-MM-DD (UTC). */
  day: string
  /** no_data: before the first health signal; maintenance: every measured minute was maintenance. */
  state: 'measured' | 'no_data' | 'maintenance'
  eligibleMinutes: number
  downMinutes: number
  /** Up minutes / eligible minutes; null when nothing was measured. */
  percent: number | null
}

export interface FactoryUptimeDays {
  /** The first minute the factory was in service (its first serve, or imported history). */
  firstSignalAt: string | null
  /** Up / eligible minutes over the measured days; null when none. */
  percent: number | null
  days: FactoryDay[]
}

/** The factory's uptime on each of the `days` UTC days up to and including today. */
export async function factoryUptimeDays(
  ctx: SlaContext,
  days: number,
  now: Date,
): Promise<FactoryUptimeDays> {
  const until = new Date(Math.floor(now.getTime() / MINUTE_MS) * MINUTE_MS - UNJUDGED_MINUTES * MINUTE_MS)
  const today = Math.floor(now.getTime() / DAY_MS) * DAY_MS
  const firstDay = new Date(today - (days - 1) * DAY_MS)
  const service = await loadService(ctx)
  const first = serviceStart(service)
  const measured = new Map<string, { eligibleMinutes: number; downMinutes: number; inService: boolean }>()
  if (first && first < until) {
    for (const month of monthsBetween(monthOf(first > firstDay ? first : firstDay), monthOf(until))) {
      const elapsed = Math.max(
        0,
        Math.min(month.minutes, (until.getTime() - month.start.getTime()) / MINUTE_MS),
      )
      const { factory: states, inService } = await loadStates(ctx, month, new Map(), { elapsed })
      const figures = uptimeFigures(month, states, elapsed)
      for (const [i, d] of figures.daily.entries())
        measured.set(d.day, { ...d, inService: inService.subarray(i * 1440, (i + 1) * 1440).includes(1) })
    }
  }
  const firstMeasuredDay = first ? first.toISOString().slice(0, 10) : null
  const out: FactoryDay[] = []
  let eligible = 0
  let down = 0
  for (let t = firstDay.getTime(); t <= today; t += DAY_MS) {
    const day = new Date(t).toISOString().slice(0, 10)
    const m = measured.get(day)
    if (!m?.inService || firstMeasuredDay === null || day < firstMeasuredDay) {
      out.push({ day, state: 'no_data', eligibleMinutes: 0, downMinutes: 0, percent: null })
      continue
    }
    eligible += m.eligibleMinutes
    down += m.downMinutes
    out.push({
      day,
      state: m.eligibleMinutes === 0 ? 'maintenance' : 'measured',
      eligibleMinutes: m.eligibleMinutes,
      downMinutes: m.downMinutes,
      percent:
        m.eligibleMinutes === 0 ? null : percentOf(m.eligibleMinutes - m.downMinutes, m.eligibleMinutes),
    })
  }
  return {
    firstSignalAt: first?.toISOString() ?? null,
    percent: eligible ? percentOf(eligible - down, eligible) : null,
    days: out,
  }
}
