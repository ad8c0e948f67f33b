// Writing telemetry into the PostgreSQL outbox. Callers pass their transaction's client so the
// event commits (or rolls back) with the state change it records.
import { randomUUID } from 'node:crypto'
import type { Queryable } from '../db/postgres.ts'
import { TelemetryEvent, type TelemetryEventInput } from './events.ts'

/** An event before it has an id and a time: `appendEvents` fills both when absent. */
export type NewEvent = Omit<TelemetryEventInput, 'eventId' | 'ts'> & { eventId?: string; ts?: string }

/**
 * Appends events to the outbox in one statement. Events are validated here: a producer bug fails
 * the caller's transaction instead of poisoning the relay.
 */
export async function appendEvents(db: Queryable, events: NewEvent[]): Promise<void> {
  if (events.length === 0) return
  const now = new Date().toISOString()
  const parsed = events.map((e) => TelemetryEvent.parse({ eventId: randomUUID(), ts: now, ...e }))
  await db.query(
    `INSERT INTO telemetry_outbox (event_id, customer_id, body)
     SELECT e.event_id, e.customer_id, e.body
     FROM unnest($1::text[], $2::text[], $3::jsonb[]) AS e(event_id, customer_id, body)`,
    [parsed.map((e) => e.eventId), parsed.map((e) => e.customerId), parsed.map((e) => JSON.stringify(e))],
  )
}

export interface OutboxLag {
  /** Events not yet acknowledged by ClickHouse. */
  backlog: number
  /** Age of the oldest of them (0 when none): the telemetry pipeline's RPO contribution. */
  oldestAgeSeconds: number
}

/** How far the telemetry pipeline is behind (for /readyz, /metrics, RPO and detection rules). */
export async function outboxLag(db: Queryable): Promise<OutboxLag> {
  const { rows } = await db.query<{ backlog: number; age: number | null }>(
    `SELECT count(*)::bigint AS backlog, extract(epoch FROM now() - min(enqueued_at))::float8 AS age FROM telemetry_outbox`,
  )
  return { backlog: rows[0]?.backlog ?? 0, oldestAgeSeconds: Math.max(0, rows[0]?.age ?? 0) }
}
