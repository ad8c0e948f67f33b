// The notify module's resources: a notice queued for a customer, and the notice as its webhook
// receives it (the body of `POST <webhook_url>`, docs/incidents.md "Customers").
import { z } from '@hono/zod-openapi'

/** What a module queues: a notice for one customer, deduplicated by `dedupKey`. */
export const NewNotification = z.object({
  customerId: z.string(),
  /** e.g. 'incident.update', 'incident.resolved', 'sla.credit_issued' */
  kind: z.string(),
  /** Stable per notice: queuing the same key twice for a customer is a no-op. */
  dedupKey: z.string(),
  payload: z.record(z.string(), z.unknown()),
})
export type NewNotification = z.infer<typeof NewNotification>

/** A queued notice, as the customer's webhook receives it (`X-Steward-Delivery` is its id). */
export const CustomerNotification = z
  .object({
    id: z.number().int(),
    kind: z.string(),
    customerId: z.string(),
    createdAt: z.iso.datetime(),
    payload: z.record(z.string(), z.unknown()),
  })
  .openapi('CustomerNotification')
export type CustomerNotification = z.infer<typeof CustomerNotification>
