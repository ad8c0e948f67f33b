// Writing telemetry into the PostgreSQL outbox. Callers pass their transaction's client so the
// event commits (or rolls back) with the state change it records.
//
// Guarantees:
// - an event is in the outbox once its caller's transaction commits; the relay ships it later;
// - an eventId already accepted for the same customer within the dedup window (telemetry_event_ids)
//   is dropped here, so a producer that re-sends (after a timeout, a crash, a retried job) never
//   double-counts. Ids are per customer: one customer's id never pre-empts another's. Two
//   transactions appending the same (customer, eventId) at once: the second waits for the first
//   and drops it if the first commits (the primary key decides);
//   Steward's events built in SQL by the statement they describe (stewardOutboxCtes) carry new
//   random ids that no one can send again: they are not recorded in the window;
// - every row records its provenance (`source`): Steward's own events ('steward', through
//   `appendEvents`, whose ids all carry the reserved prefix `steward:`), the operator's and a
//   customer's (HTTP ingest, which refuses that prefix);
// - every row names the ClickHouse table it goes to (`target`, targets.ts): a telemetry event, or
//   a row of an OpenTelemetry table from the OTLP receiver, deduplicated by the same rule.
import { randomUUID } from 'node:crypto'
import type { Queryable } from '../db/postgres.ts'
import { TelemetryEvent, type TelemetryEventInput } from './events.ts'
import type { EventSource } from './rows.ts'
import type { OutboxTarget } from './targets.ts'

/**
 * CTEs that append Steward's own events built by the statement itself from the rows it changes
 * (a claim, a success: no round trip to build them in between). `events` (SQL) selects
 * `customer_id`, `body` (a complete event but for its id) and `n` (the order); each event gets a
 * new random id in the reserved namespace, so none can be a duplicate, and the ids skip the
 * deduplication window (an id no one can send again needs no record), nor the outbox's index of
 * the window's ids (`in_dedup_window` false, 086). The bodies are not
 * validated here: the SQL that builds them is checked against the `TelemetryEvent` schema by its
 * tests (test/orchestrator/statement-events.test.ts). The appended rows are in `outbox_rows`.
 */
export function stewardOutboxCtes(events: string): string {
  // MATERIALIZED: each id is drawn once, for both the row and its body.
  return `outbox_new AS MATERIALIZED (
  SELECT '${STEWARD_ID_PREFIX}' || gen_random_uuid() AS event_id, x.customer_id, x.body, x.n FROM (${events}) x
), outbox_rows AS (
  INSERT INTO telemetry_outbox (event_id, customer_id, source, target, body, in_dedup_window)
  SELECT event_id, customer_id, 'steward', 'events', body || jsonb_build_object('eventId', event_id), false
  FROM outbox_new ORDER BY n
  RETURNING customer_id, event_id
)`
}

const SQL = {
  // $1..$5: event ids, customer ids, JSON bodies, sources, targets. Records the ids first; only
  // ids new to the window (for their customer, and not among the ids accepted before ids were per
  // customer) go on to the outbox, in one statement.
  append: `
    WITH outbox_input AS (
      SELECT * FROM unnest($1::text[], $2::text[], $3::jsonb[], $4::text[], $5::text[])
        WITH ORDINALITY AS e(event_id, customer_id, body, source, target, n)
    ), outbox_fresh AS (
      INSERT INTO telemetry_event_ids (customer_id, event_id)
      SELECT customer_id, event_id FROM outbox_input i
      WHERE NOT EXISTS (SELECT 1 FROM telemetry_event_ids_legacy l WHERE l.event_id = i.event_id)
      ORDER BY customer_id, event_id -- one lock order: no deadlock between appenders
      ON CONFLICT (customer_id, event_id) DO NOTHING
      RETURNING customer_id, event_id
    )
    INSERT INTO telemetry_outbox (event_id, customer_id, source, target, body)
    SELECT i.event_id, i.customer_id, i.source, i.target, i.body
    FROM outbox_input i JOIN outbox_fresh USING (customer_id, event_id)
    ORDER BY i.n
    RETURNING customer_id, event_id`,
  // now() when the outbox is empty: everything appended so far has shipped.
  shippedBefore: 'SELECT coalesce(min(enqueued_at), now()) AS at FROM telemetry_outbox',
  lag: `SELECT count(*)::bigint AS backlog, extract(epoch FROM now() - min(enqueued_at))::float8 AS age
        FROM telemetry_outbox`,
  pruneIds: `DELETE FROM telemetry_event_ids WHERE (customer_id, event_id) IN (
               SELECT i.customer_id, i.event_id FROM telemetry_event_ids i
               WHERE i.seen_at < now() - make_interval(secs => $1::float8 * 3600)
                 AND NOT EXISTS (SELECT 1 FROM telemetry_outbox o
                                 WHERE o.in_dedup_window AND o.customer_id = i.customer_id AND o.event_id = i.event_id)
               LIMIT $2)`,
  pruneLegacyIds: `DELETE FROM telemetry_event_ids_legacy WHERE event_id IN (
                     SELECT l.event_id FROM telemetry_event_ids_legacy l
                     WHERE l.seen_at < now() - make_interval(secs => $1::float8 * 3600)
                       AND NOT EXISTS (SELECT 1 FROM telemetry_outbox o WHERE o.event_id = l.event_id)
                     LIMIT $2)`,
}

export type { EventSource } from './rows.ts'

/** The namespace of Steward's own event ids; HTTP senders may not use it. */
export const STEWARD_ID_PREFIX = 'steward:'

/** The deduplication key of an event: its id within its customer. */
export const eventKey = (customerId: string, eventId: string): string => JSON.stringify([customerId, eventId])

/** An event before it has an id and a time: `appendEvents` fills both when absent. */
export type NewEvent = EventWithout<TelemetryEventInput, 'eventId' | 'ts'> & { eventId?: string; ts?: string }
// Omit per member of the union (a plain Omit would keep only the keys all event types share).
type EventWithout<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never

export interface AppendResult {
  /** Events written to the outbox. */
  appended: number
  /** Events dropped because their eventId was already accepted (earlier, or twice in this call). */
  duplicates: number
  /** The keys (`eventKey`) of the events written, for callers that report per-request figures. */
  appendedKeys: Set<string>
}

/** A row for the outbox: its table, customer and id (the deduplication key), and its JSON body. */
export interface OutboxItem {
  target: OutboxTarget
  customerId: string
  eventId: string
  body: string
}

/** A validated telemetry event as an outbox row of `events`. */
export const eventItem = (e: TelemetryEvent): OutboxItem => ({
  target: 'events',
  customerId: e.customerId,
  eventId: e.eventId,
  body: JSON.stringify(e),
})

/** Steward's own id for an event: the caller's (or a new) id in the reserved namespace. */
const stewardId = (id: string | undefined): string =>
  id?.startsWith(STEWARD_ID_PREFIX) ? id : `${STEWARD_ID_PREFIX}${id ?? randomUUID()}`

/**
 * Appends Steward's own events (source 'steward') to the outbox in one statement. Their ids are
 * put in the reserved namespace (`steward:<id>`; a new id when absent). Events are validated here:
 * a producer bug fails the caller's transaction instead of poisoning the relay.
 */
export async function appendEvents(db: Queryable, events: NewEvent[]): Promise<AppendResult> {
  return appendItems(db, stewardItems(events), 'steward')
}

function stewardItems(events: NewEvent[]): OutboxItem[] {
  const now = new Date().toISOString()
  return events.map((e) => eventItem(TelemetryEvent.parse({ ts: now, ...e, eventId: stewardId(e.eventId) })))
}

/**
 * Appends events that already passed `TelemetryEvent` validation (HTTP ingest validates first),
 * each with its source (one for all, or one per event).
 */
export function appendValidEvents(
  db: Queryable,
  events: TelemetryEvent[],
  source: EventSource | readonly EventSource[],
): Promise<AppendResult> {
  return appendItems(db, events.map(eventItem), source)
}

/**
 * Appends outbox rows (events, or rows of OpenTelemetry tables) in one statement, each with its
 * source (one for all, or one per row). Ids already accepted for the same customer are dropped.
 */
export async function appendItems(
  db: Queryable,
  items: readonly OutboxItem[],
  source: EventSource | readonly EventSource[],
): Promise<AppendResult> {
  const unique = new Map<string, { x: OutboxItem; source: EventSource }>()
  items.forEach((x, i) => {
    const key = eventKey(x.customerId, x.eventId)
    if (!unique.has(key)) unique.set(key, { x, source: typeof source === 'string' ? source : source[i]! })
  })
  if (unique.size === 0) return { appended: 0, duplicates: items.length, appendedKeys: new Set() }
  const list = [...unique.values()]
  // Named: planned once per connection (every transition of a job appends through here).
  const { rows } = await db.query<{ customer_id: string; event_id: string }>({
    name: 'steward_ingest_append',
    text: SQL.append,
    values: [
      list.map((u) => u.x.eventId),
      list.map((u) => u.x.customerId),
      list.map((u) => u.x.body),
      list.map((u) => u.source),
      list.map((u) => u.x.target),
    ],
  })
  return {
    appended: rows.length,
    duplicates: items.length - rows.length,
    appendedKeys: new Set(rows.map((r) => eventKey(r.customer_id, r.event_id))),
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
  const { rows } = await db.query<{ backlog: number; age: number | null }>(SQL.lag)
  return { backlog: rows[0]?.backlog ?? 0, oldestAgeSeconds: Math.max(0, rows[0]?.age ?? 0) }
}

/**
 * Every event enqueued before this instant has left the outbox: ClickHouse acknowledged it (or the
 * relay set it aside as invalid, telemetry_outbox_dead). An event's `enqueued_at` is its appending
 * transaction's start, so a state change committed before this instant has its events shipped.
 */
export async function shippedBefore(db: Queryable): Promise<Date> {
  const { rows } = await db.query<{ at: Date }>(SQL.shippedBefore)
  return rows[0]!.at
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
  for (const sql of [SQL.pruneIds, SQL.pruneLegacyIds]) {
    for (;;) {
      const { rowCount } = await db.query(sql, [windowHours, slice])
      total += rowCount ?? 0
      if ((rowCount ?? 0) < slice) break
    }
  }
  return total
}
