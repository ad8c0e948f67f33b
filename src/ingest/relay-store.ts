// The relay's PostgreSQL side: claiming batches of the outbox with their leases, taking over
// expired ones, recording an insert ClickHouse refused whole, and removing a shipped batch while
// setting its dead rows aside (telemetry_outbox_batches, telemetry_outbox, telemetry_outbox_dead).
// Each row comes with its target table (targets.ts) and customer.
import type { Queryable } from '../db/postgres.ts'
import type { EventSource } from './outbox.ts'
import type { RefusedRow } from './relay-insert.ts'
import type { OutboxTarget } from './targets.ts'

const SQL = {
  // Is a batch due? Looks only at the next `batchSize` unclaimed rows, by seq (cheap whatever the
  // backlog: only the rows of batches under way are stepped over, 088_outbox_unclaimed_by_seq.sql).
  due: `
SELECT count(*)::int AS n, COALESCE(extract(epoch FROM now() - min(enqueued_at)) * 1000, 0)::float8 AS age_ms
FROM (SELECT enqueued_at FROM telemetry_outbox WHERE batch IS NULL ORDER BY seq LIMIT $1) AS next`,
  claimNew: `
WITH pick AS (
  SELECT seq FROM telemetry_outbox WHERE batch IS NULL ORDER BY seq LIMIT $2 FOR UPDATE SKIP LOCKED
), claimed AS (
  UPDATE telemetry_outbox o SET batch = $1 FROM pick WHERE o.seq = pick.seq
  RETURNING o.seq, o.body, o.source, o.target, o.customer_id
), lease AS (
  INSERT INTO telemetry_outbox_batches (batch, claimed_by, max_partitions)
  SELECT $1, $3, $4 WHERE EXISTS (SELECT 1 FROM claimed)
)
SELECT seq, body, source, target, customer_id FROM claimed ORDER BY seq`,
  takeOver: `
UPDATE telemetry_outbox_batches SET claimed_at = now(), claimed_by = $2
WHERE batch = (
  SELECT batch FROM telemetry_outbox_batches
  WHERE claimed_at < now() - make_interval(secs => $1::float8 / 1000)
  ORDER BY claimed_at LIMIT 1 FOR UPDATE SKIP LOCKED)
RETURNING batch, max_partitions, split_tokens`,
  batchRows:
    'SELECT seq, body, source, target, customer_id FROM telemetry_outbox WHERE batch = $1 ORDER BY seq',
  renew: 'UPDATE telemetry_outbox_batches SET claimed_at = now(), claimed_by = $2 WHERE batch = $1',
  /** Records an insert of the batch that ClickHouse refused whole (relay-insert.ts). */
  split: `UPDATE telemetry_outbox_batches SET split_tokens = array_append(split_tokens, $2)
          WHERE batch = $1 AND NOT ($2 = ANY (split_tokens))`,
  /** Makes the lease expire now, so any relay takes the batch over at once (graceful stop). */
  release: `UPDATE telemetry_outbox_batches SET claimed_at = '-infinity' WHERE batch = $1`,
  /** Removes an acknowledged batch; rows listed in $2 (with reasons $3) are set aside as dead. */
  delete: `
WITH gone AS (
  DELETE FROM telemetry_outbox WHERE batch = $1
  RETURNING seq, event_id, customer_id, source, target, body, enqueued_at
), dead AS (
  INSERT INTO telemetry_outbox_dead (seq, event_id, customer_id, source, target, body, error, enqueued_at)
  SELECT g.seq, g.event_id, g.customer_id, g.source, g.target, g.body, x.error, g.enqueued_at
  FROM gone g JOIN unnest($2::bigint[], $3::text[]) AS x(seq, error) USING (seq)
)
DELETE FROM telemetry_outbox_batches WHERE batch = $1`,
  deadRows: 'SELECT count(*)::bigint AS n FROM telemetry_outbox_dead',
}

/** An outbox row of a claimed batch. */
export type OutboxRow = {
  seq: number
  body: unknown
  source: EventSource
  target: OutboxTarget
  customer_id: string
}

/** A claimed batch: its rows never change after the claim, and every attempt sends them alike. */
export interface Batch {
  token: string
  rows: OutboxRow[]
  /** The partition cap of its inserts, fixed when it was claimed. */
  maxPartitions: number
  /** Its inserts ClickHouse refused whole (sent as halves from then on). */
  split: Set<string>
}

/** How many unclaimed rows wait (up to `batchSize`) and how long the oldest of them waited. */
export async function nextBatch(db: Queryable, batchSize: number): Promise<{ n: number; ageMs: number }> {
  const { rows } = await db.query<{ n: number; age_ms: number }>(SQL.due, [batchSize])
  return { n: rows[0]?.n ?? 0, ageMs: rows[0]?.age_ms ?? 0 }
}

/** Claims up to `batchSize` unclaimed rows as batch `token` (none when nothing waits). */
export async function claimBatch(
  db: Queryable,
  o: { token: string; batchSize: number; instanceId: string; maxPartitions: number },
): Promise<Batch | undefined> {
  const { rows } = await db.query<OutboxRow>(SQL.claimNew, [
    o.token,
    o.batchSize,
    o.instanceId,
    o.maxPartitions,
  ])
  return rows.length ? { token: o.token, rows, maxPartitions: o.maxPartitions, split: new Set() } : undefined
}

/** Takes over one batch whose lease expired (its relay died), with its recorded plan. */
export async function takeOverBatch(
  db: Queryable,
  o: { leaseMs: number; instanceId: string; maxPartitions: number },
): Promise<Batch | undefined> {
  const { rows } = await db.query<{ batch: string; max_partitions: number | null; split_tokens: string[] }>(
    SQL.takeOver,
    [o.leaseMs, o.instanceId],
  )
  const lease = rows[0]
  if (!lease) return undefined
  const { rows: batchRows } = await db.query<OutboxRow>(SQL.batchRows, [lease.batch])
  return {
    token: lease.batch,
    rows: batchRows,
    // Claimed before the cap was recorded: the current setting.
    maxPartitions: lease.max_partitions ?? o.maxPartitions,
    split: new Set(lease.split_tokens),
  }
}

/** Renews the lease; false when the batch is gone (another relay shipped it). */
export async function renewLease(db: Queryable, token: string, instanceId: string): Promise<boolean> {
  return ((await db.query(SQL.renew, [token, instanceId])).rowCount ?? 0) > 0
}

/** Records that ClickHouse refused the insert `insertToken` of the batch whole. */
export async function recordSplit(db: Queryable, token: string, insertToken: string): Promise<void> {
  await db.query(SQL.split, [token, insertToken])
}

/** Gives the batch up: its lease expires now, so any relay takes it over. */
export async function releaseLease(db: Queryable, token: string): Promise<void> {
  await db.query(SQL.release, [token])
}

/** Removes a shipped batch in one statement, setting `dead` rows aside with their errors. */
export async function finishBatch(db: Queryable, token: string, dead: RefusedRow[]): Promise<void> {
  await db.query(SQL.delete, [token, dead.map((d) => d.seq), dead.map((d) => d.error)])
}

/** Rows set aside in telemetry_outbox_dead (for /readyz and /metrics). */
export async function deadRows(db: Queryable): Promise<number> {
  const { rows } = await db.query<{ n: number }>(SQL.deadRows)
  return Number(rows[0]?.n ?? 0)
}
