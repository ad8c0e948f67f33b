// The delivery outbox in PostgreSQL (table `incident_deliveries`): PagerDuty events queued with the
// incident change they announce, one webhook delivery per customer notice, their attempts, and what
// readiness and the status page read of them. The drain that sends them is deliveries.ts.
import type { PoolClient, Queryable } from '../db/postgres.ts'
import type { StoredPagerDutyEvent } from './pagerduty.ts'

export type Channel = 'pagerduty' | 'webhook'

export interface Delivery {
  id: number
  channel: Channel
  incidentId: string | null
  notificationId: number | null
  body: Record<string, unknown>
  attempts: number
}

const SQL = {
  enqueue: `INSERT INTO incident_deliveries (channel, idempotency_key, incident_id, order_key, body)
            VALUES ('pagerduty', $1, $2, $2, $3) ON CONFLICT (idempotency_key) DO NOTHING`,
  // One webhook delivery per claimed notice, in notice order (each customer's in order).
  adopt: `
    INSERT INTO incident_deliveries (channel, idempotency_key, notification_id, order_key, body)
    SELECT 'webhook', 'notification:' || n.id, n.id, 'customer:' || n.customer_id, '{}'::jsonb
    FROM unnest($1::bigint[], $2::text[]) AS n (id, customer_id)
    ORDER BY n.id
    ON CONFLICT (idempotency_key) DO NOTHING`,
  due: `
    SELECT id, channel, incident_id, notification_id, body, attempts FROM incident_deliveries d
    WHERE channel = $1 AND status = 'pending' AND next_attempt_at <= now()
      AND NOT EXISTS (SELECT 1 FROM incident_deliveries e
                      WHERE e.order_key = d.order_key AND e.status = 'pending' AND e.id < d.id)
    ORDER BY id LIMIT 20`,
  finish: `UPDATE incident_deliveries SET status = $2, attempts = attempts + 1, last_status = $3, last_error = $4,
           finished_at = now() WHERE id = $1`,
  retry: `UPDATE incident_deliveries SET attempts = attempts + 1, last_status = $2, last_error = $3,
          next_attempt_at = now() + $4::int * interval '1 millisecond' WHERE id = $1`,
  lock: 'SELECT pg_try_advisory_lock(hashtext($1)) AS ok',
  unlock: 'SELECT pg_advisory_unlock(hashtext($1))',
  pendingByChannel: `
    SELECT channel, count(*)::int AS pending, extract(epoch FROM now() - min(created_at))::float8 AS oldest
    FROM incident_deliveries WHERE status = 'pending' GROUP BY channel`,
  paging: `
    SELECT count(*) FILTER (WHERE status = 'pending')::int AS pending,
           coalesce(extract(epoch FROM now() - min(created_at) FILTER (WHERE status = 'pending')), 0)::float8 AS oldest,
           count(*) FILTER (WHERE status = 'pending' AND attempts > 0)::int AS retrying,
           count(*) FILTER (WHERE status = 'rejected' AND finished_at > now() - interval '1 day')::int AS rejected,
           max(finished_at) FILTER (WHERE status = 'delivered') AS last_delivered
    FROM incident_deliveries WHERE channel = 'pagerduty'`,
}

/** Queues one PagerDuty action for an incident (a second call with the same action is a no-op). */
export async function enqueuePagerDuty(
  db: Queryable,
  incidentId: string,
  action: string,
  event: StoredPagerDutyEvent,
): Promise<void> {
  await db.query(SQL.enqueue, [`${incidentId}:${action}`, incidentId, JSON.stringify(event)])
}

/** Queues a webhook delivery for each notice (in the transaction that claimed them). */
export async function enqueueNotices(db: Queryable, notices: { id: number; customerId: string }[]) {
  if (!notices.length) return
  await db.query(SQL.adopt, [notices.map((n) => n.id), notices.map((n) => n.customerId)])
}

/** Up to 20 deliveries of `channel` due now, each the oldest pending one of its order key. */
export async function dueDeliveries(db: Queryable, channel: Channel): Promise<Delivery[]> {
  const { rows } = await db.query<{
    id: number
    channel: Channel
    incident_id: string | null
    notification_id: number | null
    body: Record<string, unknown>
    attempts: number
  }>(SQL.due, [channel])
  return rows.map((r) => ({
    id: r.id,
    channel: r.channel,
    incidentId: r.incident_id,
    notificationId: r.notification_id,
    body: r.body,
    attempts: r.attempts,
  }))
}

/** Settles a delivery: delivered, rejected (for good) or skipped. */
export async function finishDelivery(
  db: Queryable,
  id: number,
  status: 'delivered' | 'rejected' | 'skipped',
  httpStatus: number | null,
  error: string | null,
): Promise<void> {
  await db.query(SQL.finish, [id, status, httpStatus, error])
}

/** Counts a failed attempt and schedules the next one `waitMs` from now. */
export async function retryDelivery(
  db: Queryable,
  id: number,
  httpStatus: number | null,
  error: string | null,
  waitMs: number,
): Promise<void> {
  await db.query(SQL.retry, [id, httpStatus, error, waitMs])
}

/**
 * Runs `fn` holding the drain lock of `channel` (one drain per channel across all instances, a
 * session advisory lock on `client`); returns undefined without running it when another holds it.
 */
export async function withDrainLock<T>(
  client: PoolClient,
  channel: Channel,
  fn: () => Promise<T>,
): Promise<T | undefined> {
  const lock = `steward:incidents:deliveries:${channel}`
  const { rows } = await client.query<{ ok: boolean }>(SQL.lock, [lock])
  if (!rows[0]?.ok) return undefined
  try {
    return await fn()
  } finally {
    await client.query(SQL.unlock, [lock])
  }
}

/** Pending deliveries per channel, and the age of the oldest (GET /readyz). */
export async function pendingByChannel(
  db: Queryable,
): Promise<Record<string, { pending: number; oldestAgeSeconds: number }>> {
  const { rows } = await db.query<{ channel: string; pending: number; oldest: number | null }>(
    SQL.pendingByChannel,
  )
  return Object.fromEntries(
    rows.map((r) => [r.channel, { pending: r.pending, oldestAgeSeconds: Math.round(r.oldest ?? 0) }]),
  )
}

/** The PagerDuty channel's figures: pending (and the oldest's age), retrying, rejected in a day, last delivered. */
export async function pagerDutyFigures(db: Queryable) {
  const { rows } = await db.query<{
    pending: number
    oldest: number
    retrying: number
    rejected: number
    last_delivered: Date | null
  }>(SQL.paging)
  const r = rows[0]!
  return {
    pending: r.pending,
    oldestPendingSeconds: Math.max(0, r.oldest),
    retrying: r.retrying,
    rejectedLastDay: r.rejected,
    lastDeliveredAt: r.last_delivered?.toISOString() ?? null,
  }
}
