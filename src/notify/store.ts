// The customer-notification queue in PostgreSQL (table `customer_notifications`). Modules queue a
// notice in their own transaction (pass its client, so the notice commits with what it announces);
// the incidents module's delivery outbox claims new notices and sends each to the customer's
// webhook.
//
// Guarantees: a notice is queued once per (customer, dedup key); it is claimed once (claiming sets
// `claimed_at` in the claimer's transaction, so a claim that rolls back leaves it to the next one).
import type { Queryable } from '../db/postgres.ts'
import type { CustomerNotification, NewNotification } from './schemas.ts'

const SQL = {
  queue: `INSERT INTO customer_notifications (customer_id, kind, dedup_key, payload) VALUES ($1, $2, $3, $4)
          ON CONFLICT (customer_id, dedup_key) DO NOTHING`,
  claim: `UPDATE customer_notifications SET claimed_at = now() WHERE claimed_at IS NULL
          RETURNING id, customer_id`,
  get: 'SELECT id, customer_id, kind, payload, created_at FROM customer_notifications WHERE id = $1',
}

/** Returns true when the notification was queued, false when it already was. */
export async function queueCustomerNotification(db: Queryable, n: NewNotification): Promise<boolean> {
  const { rowCount } = await db.query(SQL.queue, [
    n.customerId,
    n.kind,
    n.dedupKey,
    JSON.stringify(n.payload),
  ])
  return rowCount === 1
}

/** Claims the notices nobody claimed yet (in the caller's transaction), in queue order. */
export async function claimNotifications(db: Queryable): Promise<{ id: number; customerId: string }[]> {
  const { rows } = await db.query<{ id: number; customer_id: string }>(SQL.claim)
  return rows.map((r) => ({ id: r.id, customerId: r.customer_id })).sort((a, b) => a.id - b.id)
}

/** One queued notice; undefined when it is gone (its customer was deleted). */
export async function getNotification(db: Queryable, id: number): Promise<CustomerNotification | undefined> {
  const { rows } = await db.query<{
    id: number
    customer_id: string
    kind: string
    payload: Record<string, unknown>
    created_at: Date
  }>(SQL.get, [id])
  const r = rows[0]
  return r
    ? {
        id: r.id,
        kind: r.kind,
        customerId: r.customer_id,
        createdAt: r.created_at.toISOString(),
        payload: r.payload,
      }
    : undefined
}
