// When the factory was in service: minutes before the installation first served are "not in
// service", for the factory and for every customer, whatever a customer's `since` says.
//
// Guarantees (docs/sla.md, "Uptime"):
// - in service from the first whole minute after the installation first served (the witness's
//   first beat) on;
// - history (factory health signals in ClickHouse from before that beat: telemetry the operator
//   imported, or an installation older than its witness) is in service from its first signal's
//   minute to its last signal's minute, so an imported month counts, gaps inside it are downtime,
//   and the time between the history and the first serve is not in service;
// - a customer is in service only from its own first whole minute (`since`) on.
import { chQuery } from '../db/clickhouse.ts'
import type { SlaContext } from './context.ts'
import { MINUTE_MS, type Span } from './months.ts'
import { firstServed } from './witness.ts'

const SQL = {
  history: `
    SELECT count() AS n, toUInt32(min(minute)) AS first, toUInt32(max(minute)) AS last FROM health_1m
    WHERE customer_id = '' AND provenance != 'customer' AND (type = 'probe' OR component = 'control_plane')
      AND minute < toDateTime({before:UInt32}, 'UTC')`,
}

export interface Service {
  /** The witness's first beat: when this installation first served. */
  firstServed: Date | null
  /** Factory health signals from before the first serve: first and last signal minute. */
  history: { first: Date; last: Date } | null
}

const NEVER = 4_294_967_295

export async function loadService(ctx: Pick<SlaContext, 'pool' | 'ch'>): Promise<Service> {
  const served = await firstServed(ctx.pool)
  const [row] = await chQuery<{ n: number; first: number; last: number }>(ctx.ch, SQL.history, {
    before: served ? Math.floor(served.getTime() / 1000) : NEVER,
  })
  const history =
    Number(row?.n ?? 0) > 0
      ? { first: new Date(Number(row!.first) * 1000), last: new Date(Number(row!.last) * 1000) }
      : null
  return { firstServed: served, history }
}

const firstWholeMinute = (at: Date) => Math.ceil(at.getTime() / MINUTE_MS) * MINUTE_MS

/** The earliest in-service minute, or null when the factory never was in service. */
export function serviceStart(s: Service): Date | null {
  const starts = [s.history?.first, s.firstServed && new Date(firstWholeMinute(s.firstServed))]
  const t = Math.min(...starts.filter((d): d is Date => !!d).map((d) => d.getTime()))
  return Number.isFinite(t) ? new Date(t) : null
}

/** Per minute of the month: 1 in service (for a customer: also after its `since`), else 0. */
export function inServiceMask(month: Span, s: Service, since?: Date): Uint8Array {
  const mask = new Uint8Array(month.minutes)
  const t0 = month.start.getTime()
  const served = s.firstServed ? firstWholeMinute(s.firstServed) : Number.POSITIVE_INFINITY
  const from = since ? firstWholeMinute(since) : Number.NEGATIVE_INFINITY
  const h = s.history
  for (let i = 0; i < month.minutes; i++) {
    const t = t0 + i * MINUTE_MS
    if (t < from) continue
    if (t >= served || (h && t >= h.first.getTime() && t <= h.last.getTime())) mask[i] = 1
  }
  return mask
}

/** Whether any minute of the month is in service (a month with none cannot be closed). */
export const anyInService = (mask: Uint8Array) => mask.includes(1)
