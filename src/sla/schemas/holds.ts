// Held months and the audit log: what a person decided about SLA figures, and why.
import { z } from '@hono/zod-openapi'
import { count, instant, MonthKey } from './plan.ts'

const Period = z.object({ start: instant, end: instant, minutes: count })

/** A month the close held: ClickHouse lacks signals for minutes the witness saw served. */
export const MonthHold = z
  .object({
    month: MonthKey,
    /** 'held' until an admin releases it. */
    status: z.enum(['held', 'released']),
    heldAt: instant,
    /** The last close run that checked the month (the counts are as of then). */
    checkedAt: instant,
    /** Witnessed minutes with no factory signal in ClickHouse. */
    unmeasuredMinutes: count,
    periods: z.array(Period),
    releasedAt: instant.nullable(),
    releasedBy: z.string().nullable(),
    releaseReason: z.string().nullable(),
  })
  .openapi('MonthHold')
export type MonthHold = z.infer<typeof MonthHold>

/** Why and by whom: what an admin gives with every decision about the figures. */
export const Decision = z
  .object({
    reason: z.string().trim().min(3).max(1000),
    /** Who decided, as the operator names themselves (recorded with the token kind). */
    actor: z.string().trim().min(1).max(200).optional(),
  })
  .strict()
  .openapi('SlaDecision')
export type Decision = z.infer<typeof Decision>

export const AuditEntry = z
  .object({
    id: z.number().int(),
    at: instant,
    actor: z.string(),
    action: z.enum(['month.release', 'maintenance.adjustment', 'maintenance.cancel']),
    subject: z.string(),
    reason: z.string(),
    detail: z.record(z.string(), z.unknown()),
  })
  .openapi('SlaAuditEntry')
export type AuditEntry = z.infer<typeof AuditEntry>
