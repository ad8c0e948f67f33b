// Queues a notification for a customer (delivered by the incidents module to the customer's
// webhook). Pass the caller's transaction client so the notice commits with what it announces.
import type { Queryable } from '../db/postgres.ts'

const SQL = {
  queue: `INSERT INTO customer_notifications (customer_id, kind, dedup_key, payload) VALUES ($1, $2, $3, $4)
          ON CONFLICT (customer_id, dedup_key) DO NOTHING`,
}

export interface CustomerNotification {
  customerId: string
  /** e.g. 'incident.update', 'incident.resolved', 'sla.credit_issued' */
  kind: string
  /** Stable per notice: queuing the same key twice for a customer is a no-op. */
  dedupKey: string
  payload: Record<string, unknown>
}

/** Returns true when the notification was queued, false when it already was. */
export async function queueCustomerNotification(db: Queryable, n: CustomerNotification): Promise<boolean> {
  const { rowCount } = await db.query(SQL.queue, [
    n.customerId,
    n.kind,
    n.dedupKey,
    JSON.stringify(n.payload),
  ])
  return rowCount === 1
}
