// Writing telemetry into the PostgreSQL outbox. Callers pass their transaction's client so the
// event commits (or rolls back) with the state change it records.
//
// Guarantees:
// - an event is in the outbox once its caller's transaction commits; the relay ships it later;
// - an eventId already accepted within the dedup window (telemetry_event_ids) is dropped here, so
//   a producer that re-sends (after a timeout, a crash, a retried job) never double-counts. Two
//   transactions appending the same eventId at once: the second waits for the first and drops it
//   if the first commits (the primary key decides).
import { randomUUID } from 'node:crypto'
import type { Queryable } from '../db/postgres.ts'
import { TelemetryEvent, type TelemetryEventInput } from './events.ts'

/** An event before it has an id and a time: `appendEvents` fills both when absent. */
export type NewEvent = EventWithout<TelemetryEventInput, 'eventId' | 'ts'> & { eventId?: string; ts?: string }
// Omit per member of the union (a plain Omit would keep only the keys all event types share).
type EventWithout<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never

export interface AppendResult {
  /** Events written to the outbox. */
  appended: number
  /** Events dropped because their eventId was already accepted (earlier, or twice in this call). */
  duplicates: number
  /** The eventIds written (in input order), for callers that report per-request figures. */
  appendedIds: Set<string>
}

// Records the ids first; only ids new to the window go on to the outbox, in one statement.
const APPEND_SQL = `
WITH fresh AS (
  INSERT INTO telemetry_event_ids (event_id)
  SELECT id FROM unnest($1::text[]) AS id ORDER BY id -- one lock order: no deadlock between appenders
  ON CONFLICT (event_id) DO NOTHING
  RETURNING event_id
)
INSERT INTO telemetry_outbox (event_id, customer_id, body)
SELECT e.event_id, e.customer_id, e.body
FROM unnest($1::text[], $2::text[], $3::jsonb[]) WITH ORDINALITY AS e(event_id, customer_id, body, n)
JOIN fresh USING (event_id)
ORDER BY e.n
RETURNING event_id`

/**
 * Appends events to the outbox in one statement. Events are validated here: a producer bug fails
 * the caller's transaction instead of poisoning the relay.
 */
export async function appendEvents(db: Queryable, events: NewEvent[]): Promise<AppendResult> {
  const now = new Date().toISOString()
  return appendValidEvents(
    db,
    events.map((e) => TelemetryEvent.parse({ eventId: randomUUID(), ts: now, ...e })),
  )
}

/** Appends events that already passed `TelemetryEvent` validation (HTTP ingest validates first). */
export async function appendValidEvents(db: Queryable, events: TelemetryEvent[]): Promise<AppendResult> {
  const unique = new Map<string, TelemetryEvent>()
  for (const e of events) if (!unique.has(e.eventId)) unique.set(e.eventId, e)
  if (unique.size === 0) return { appended: 0, duplicates: events.length, appendedIds: new Set() }
  const list = [...unique.values()]
  const { rows } = await db.query<{ event_id: string }>(APPEND_SQL, [
    list.map((e) => e.eventId),
    list.map((e) => e.customerId),
    list.map((e) => JSON.stringify(e)),
  ])
  return {
    appended: rows.length,
    duplicates: events.length - rows.length,
    appendedIds: new Set(rows.map((r) => r.event_id)),
  }
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

/** Outbox rows the relay set aside as invalid events (telemetry_outbox_dead) since `since`. */
export async function deadEventsSince(db: Queryable, since: Date): Promise<number> {
  const { rows } = await db.query<{ n: number }>(
    'SELECT count(*)::int AS n FROM telemetry_outbox_dead WHERE dead_at >= $1',
    [since],
  )
  return rows[0]?.n ?? 0
}

/**
 * Forgets eventIds accepted before the dedup window, except those still waiting in the outbox
 * (forgetting those would let a re-send in and ship the event twice). Deletes in slices so a
 * large backlog of ids never holds one long transaction.
 */
export async function pruneEventIds(db: Queryable, windowHours: number, slice = 10_000): Promise<number> {
  let total = 0
  for (;;) {
    const { rowCount } = await db.query(
      `DELETE FROM telemetry_event_ids WHERE event_id IN (
         SELECT i.event_id FROM telemetry_event_ids i
         WHERE i.seen_at < now() - make_interval(secs => $1::float8 * 3600)
           AND NOT EXISTS (SELECT 1 FROM telemetry_outbox o WHERE o.event_id = i.event_id)
         LIMIT $2)`,
      [windowHours, slice],
    )
    total += rowCount ?? 0
    if ((rowCount ?? 0) < slice) return total
  }
}
