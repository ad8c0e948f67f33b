// Uptime per minute from the health signals in ClickHouse.
//
// Rules (docs/sla.md):
// - a minute is up for the factory when a healthy control-plane heartbeat or an ok probe of the
//   factory (customer_id '') exists in it; a minute with no signal at all is DOWN (customer-
//   favourable: a silent monitoring pipeline cannot manufacture uptime);
// - for a customer, a healthy probe of that customer also makes the minute up, and a minute in
//   which that customer's own probes all failed is down whatever the factory reported;
// - maintenance minutes are excluded from both sides of the ratio; only minutes wholly inside a
//   window are excluded (a window 02:00:30–02:10 excludes 02:01–02:09), again customer-favourable.
import type { ClickHouseClient } from '../db/clickhouse.ts'
import { chQuery } from '../db/clickhouse.ts'
import { DAY_MS, MINUTE_MS, type Month, percentOf } from './months.ts'
import type { DailyUptime, DowntimePeriod, FigureSource, UptimeFigures } from './schemas/figures.ts'

const SQL = {
  signals: {
    rollup: `
      SELECT toUInt32(minute) AS m, customer_id AS c, sum(healthy) AS h,
             sumIf(healthy, source = 'probe') AS ph, sumIf(unhealthy, source = 'probe') AS pu
      FROM signals_1m
      WHERE minute >= toDateTime({from:UInt32}, 'UTC') AND minute < toDateTime({to:UInt32}, 'UTC')
        AND customer_id IN {customers:Array(String)}
        AND (source = 'probe' OR component = 'control_plane')
      GROUP BY m, c
      HAVING h > 0 OR pu > 0`,
    // The same figures straight from raw events (benchmark reference and cross-check).
    raw: `
      SELECT toUInt32(toStartOfMinute(ts)) AS m, customer_id AS c, countIf(ok = 1) AS h,
             countIf(type = 'probe' AND ok = 1) AS ph, countIf(type = 'probe' AND ok = 0) AS pu
      FROM events FINAL
      WHERE type IN ('heartbeat', 'probe')
        AND ts >= toDateTime64({from:UInt32}, 3, 'UTC') AND ts < toDateTime64({to:UInt32}, 3, 'UTC')
        AND customer_id IN {customers:Array(String)}
        AND (type = 'probe' OR component = 'control_plane')
      GROUP BY m, c
      HAVING h > 0 OR pu > 0`,
  },
}

interface SignalRow {
  m: number
  c: string
  h: number
  ph: number
  pu: number
}

export interface MinuteSignals {
  factory: Uint8Array
  /** Per customer: 1 = own healthy signal, 2 = own probes all failed (0 = nothing of its own). */
  customers: Map<string, Uint8Array>
}

/** Loads the month's per-minute signals of the factory and of `customerIds`. */
export async function loadMinuteSignals(
  ch: ClickHouseClient,
  month: Month,
  customerIds: string[],
  source: FigureSource = 'rollup',
): Promise<MinuteSignals> {
  const rows = await chQuery<SignalRow>(ch, SQL.signals[source], {
    from: month.start.getTime() / 1000,
    to: month.end.getTime() / 1000,
    customers: ['', ...customerIds],
  })
  const factory = new Uint8Array(month.minutes)
  const customers = new Map(customerIds.map((id) => [id, new Uint8Array(month.minutes)]))
  const base = month.start.getTime() / 1000
  for (const r of rows) {
    const i = (Number(r.m) - base) / 60
    if (r.c === '') {
      if (Number(r.h) > 0) factory[i] = 1
      continue
    }
    const own = customers.get(r.c)
    if (!own) continue
    if (Number(r.pu) > 0 && Number(r.ph) === 0) own[i] = 2
    else if (Number(r.h) > 0) own[i] = 1
  }
  return { factory, customers }
}

/** A maintenance window as the uptime computation sees it. */
export interface Window {
  start: Date
  end: Date
}

/** Marks minutes wholly inside a window. */
export function maintenanceMask(month: Month, windows: Window[]): Uint8Array {
  const mask = new Uint8Array(month.minutes)
  const t0 = month.start.getTime()
  for (const w of windows) {
    const first = Math.max(0, Math.ceil((w.start.getTime() - t0) / MINUTE_MS))
    const last = Math.min(month.minutes, Math.floor((w.end.getTime() - t0) / MINUTE_MS))
    for (let i = first; i < last; i++) mask[i] = 1
  }
  return mask
}

/** Per-minute up (1) / down (0) for the factory (own undefined) or a customer. */
export function upMinutes(factory: Uint8Array, own?: Uint8Array): Uint8Array {
  const up = new Uint8Array(factory.length)
  for (let i = 0; i < up.length; i++) {
    const o = own?.[i] ?? 0
    up[i] = o === 2 ? 0 : o === 1 || factory[i] === 1 ? 1 : 0
  }
  return up
}

/**
 * `elapsed`: minutes of the month that have passed (month-to-date figures count only those);
 * `from`: the first minute the customer existed (a customer created mid-month is measured from then).
 */
export function uptimeFigures(
  month: Month,
  up: Uint8Array,
  maintenance: Uint8Array,
  elapsed = month.minutes,
  from = 0,
): UptimeFigures {
  const t0 = month.start.getTime()
  const iso = (i: number) => new Date(t0 + i * MINUTE_MS).toISOString()
  let maint = 0
  let down = 0
  const skipped = Math.min(from, elapsed)
  const periods: DowntimePeriod[] = []
  let periodCount = 0
  let runStart = -1
  const daily: DailyUptime[] = []
  let dayEligible = 0
  let dayDown = 0
  for (let i = 0; i <= elapsed; i++) {
    const isDown = i < elapsed && i >= from && maintenance[i] === 0 && up[i] === 0
    if (isDown && runStart < 0) runStart = i
    if (!isDown && runStart >= 0) {
      periodCount++
      if (periods.length < 500) periods.push({ start: iso(runStart), end: iso(i), minutes: i - runStart })
      runStart = -1
    }
    if (i === elapsed) break
    if (i < from) {
      // not in service yet: counted nowhere
    } else if (maintenance[i] === 1) maint++
    else {
      dayEligible++
      if (isDown) {
        down++
        dayDown++
      }
    }
    if ((i + 1) % 1440 === 0 || i + 1 === elapsed) {
      const day = new Date(t0 + Math.floor(i / 1440) * DAY_MS).toISOString().slice(0, 10)
      daily.push({
        day,
        eligibleMinutes: dayEligible,
        downMinutes: dayDown,
        percent: percentOf(dayEligible - dayDown, dayEligible),
      })
      dayEligible = 0
      dayDown = 0
    }
  }
  const eligible = elapsed - skipped - maint
  return {
    percent: percentOf(eligible - down, eligible),
    minutes: elapsed,
    maintenanceMinutes: maint,
    notInServiceMinutes: skipped,
    eligibleMinutes: eligible,
    upMinutes: eligible - down,
    downMinutes: down,
    downtimePeriods: periods,
    downtimePeriodCount: periodCount,
    daily,
  }
}
