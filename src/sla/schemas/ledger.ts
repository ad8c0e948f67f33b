// Corrections of a closed credit (docs/sla.md, "How each figure is computed — corrections"): the
// adjustment an admin asks for, the immutable row it becomes, and a credit's ledger (the record's
// amount, every adjustment, the net).
import { z } from '@hono/zod-openapi'
import { count, instant, MonthKey } from './plan.ts'

const reason = z.string().min(1).max(1000)
/** Any integer: a negative amount is well-formed, and refused as impossible (422), by the ledger. */
const amountCents = z.number().int()

/** What an admin asks: void the credit, reissue a void one with a new amount, or add goodwill. */
export const NewCreditAdjustment = z
  .discriminatedUnion('kind', [
    z.object({ kind: z.literal('void'), reason }).strict(),
    z.object({ kind: z.literal('reissue'), amountCents, reason }).strict(),
    z.object({ kind: z.literal('goodwill'), amountCents, reason }).strict(),
  ])
  .openapi('NewCreditAdjustment')
export type NewCreditAdjustment = z.infer<typeof NewCreditAdjustment>

const CreditStatus = z.enum(['active', 'void'])

/** One correction, as written (never changed): what it did to the credit and who did it, why. */
export const CreditAdjustment = z
  .object({
    id: z.number().int(),
    creditId: z.number().int(),
    /** 1, 2, ... per credit: the order corrections were made in. */
    seq: count,
    customerId: z.string(),
    kind: z.enum(['void', 'reissue', 'goodwill']),
    /** The change to the credited amount (a void: minus the net before it). */
    amountCents: z.number().int(),
    /** The credit's net amount and state after this correction. */
    netCents: count,
    status: CreditStatus,
    reason: z.string(),
    /** Who made it ('admin': the admin token). */
    actor: z.string(),
    createdAt: instant,
    /** The billing cycle the money moves in; null when none moves (a void of 0, a reissue of 0). */
    billingCycle: MonthKey.nullable(),
  })
  .openapi('CreditAdjustment')
export type CreditAdjustment = z.infer<typeof CreditAdjustment>

/** A closed credit with every correction: the original, the adjustments in order, the net. */
export const CreditLedger = z
  .object({
    creditId: z.number().int(),
    customerId: z.string(),
    month: MonthKey,
    currency: z.string(),
    /** The closed record's credit (never changes). */
    originalCents: count,
    adjustments: z.array(CreditAdjustment),
    /** original + every adjustment: what the customer is credited. */
    netCents: count,
    status: CreditStatus,
  })
  .openapi('CreditLedger')
export type CreditLedger = z.infer<typeof CreditLedger>
