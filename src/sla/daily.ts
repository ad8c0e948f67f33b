// The factory's uptime per UTC day over a trailing window (the public status page's bars).
//
// Guarantees: the same minute rules as the monthly figures (uptime.ts: a minute with no health
// signal is down, factory maintenance minutes are excluded), counted only from the first health
// signal the factory ever sent: days before the installation first served are "no data", never
// down. The newest minutes are not judged yet (the relay needs a moment to ship them).
import { chQuery } from '../db/clickhouse.ts'
import type { SlaContext } from './context.ts'
import { maintenanceWindows } from './maintenance.ts'
import { DAY_MS, MINUTE_MS, monthOf, monthsBetween, percentOf } from './months.ts'
import { loadMinuteSignals, maintenanceMask, upMinutes, uptimeFigures } from './uptime.ts'

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
  firstSignalAt: string | null
  /** Up / eligible minutes over the measured days; null when none. */
  percent: number | null
  days: FactoryDay[]
}

const SQL = {
  firstSignal: `
    SELECT count() AS n, toUInt32(min(minute)) AS m FROM signals_1m
    WHERE customer_id = '' AND (source = 'probe' OR component = 'control_plane')`,
}

/** The first minute the factory sent a health signal (heartbeat or probe), or null if it never did. */
export async function firstFactorySignal(ctx: Pick<SlaContext, 'ch'>): Promise<Date | null> {
  const [row] = await chQuery<{ n: number; m: number }>(ctx.ch, SQL.firstSignal, {})
  return Number(row?.n ?? 0) > 0 ? new Date(Number(row!.m) * 1000) : null
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
  const first = await firstFactorySignal(ctx)
  const measured = new Map<string, { eligibleMinutes: number; downMinutes: number }>()
  if (first && first < until) {
    for (const month of monthsBetween(monthOf(first > firstDay ? first : firstDay), monthOf(until))) {
      const [signals, windows] = await Promise.all([
        loadMinuteSignals(ctx.ch, month, []),
        maintenanceWindows(ctx.pool, ctx.config, month),
      ])
      const factoryWindows = windows
        .filter((w) => w.customerId === null)
        .map((w) => ({ start: new Date(w.start), end: new Date(w.end) }))
      const elapsed = Math.max(
        0,
        Math.min(month.minutes, (until.getTime() - month.start.getTime()) / MINUTE_MS),
      )
      const from = Math.max(0, Math.ceil((first.getTime() - month.start.getTime()) / MINUTE_MS))
      const figures = uptimeFigures(
        month,
        upMinutes(signals.factory),
        maintenanceMask(month, factoryWindows),
        elapsed,
        from,
      )
      for (const d of figures.daily) measured.set(d.day, d)
    }
  }
  const firstMeasuredDay = first ? first.toISOString().slice(0, 10) : null
  const out: FactoryDay[] = []
  let eligible = 0
  let down = 0
  for (let t = firstDay.getTime(); t <= today; t += DAY_MS) {
    const day = new Date(t).toISOString().slice(0, 10)
    const m = measured.get(day)
    if (!m || firstMeasuredDay === null || day < firstMeasuredDay) {
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
