// The outcome of a close: the immutable credit record, its billing adjustment, the credit report
// (closed records and provisional figures) and what one close run did.
import { z } from '@hono/zod-openapi'
import { CustomerMonth, TierHit } from './figures.ts'
import { MonthHold } from './holds.ts'
import { CreditAdjustment } from './ledger.ts'
import { count, instant, MonthKey, percent } from './plan.ts'

/** A customer's credit for a month under a plan version: what a record keeps and the report shows. */
const creditShape = {
  customerId: z.string(),
  month: MonthKey,
  planVersion: count,
  creditPercent: percent,
  feeCents: z.number().int(),
  creditCents: z.number().int(),
  currency: z.string(),
  tiers: z.array(TierHit),
}

/** An immutable monthly credit record (sla_credits): the figures it was computed from, and their hash. */
export const CreditRecord = z
  .object({
    id: z.number().int(),
    ...creditShape,
    inputs: CustomerMonth,
    /** SHA-256 of the canonical JSON of `inputs`. */
    inputsSha256: z.string(),
    computedAt: instant,
    createdAt: instant,
  })
  .openapi('CreditRecord')
export type CreditRecord = z.infer<typeof CreditRecord>

/**
 * Money a credit moves in a billing cycle: the credit itself (kind 'credit', negative, the cycle
 * after the credited month), then each correction that moves money (a void takes the credit back:
 * positive; a reissue or goodwill: negative), in the cycle after the month it was made in.
 */
export const BillingAdjustment = z
  .object({
    id: z.number().int(),
    creditId: z.number().int(),
    kind: z.enum(['credit', 'void', 'reissue', 'goodwill']),
    /** The correction (ledger row) behind it; null for the credit itself. */
    adjustmentId: z.number().int().nullable(),
    customerId: z.string(),
    billingCycle: MonthKey,
    amountCents: z.number().int(),
    /** amountCents in units, two decimals (e.g. "-100.00"). */
    amount: z.string(),
    currency: z.string(),
    description: z.string(),
  })
  .openapi('BillingAdjustment')
export type BillingAdjustment = z.infer<typeof BillingAdjustment>

export const CreditReportItem = z
  .object({
    ...creditShape,
    /**
     * 'closed': the immutable record; 'provisional': the month is not closed for this customer yet;
     * 'held': not closed because the month is held (the report's `hold` says why).
     */
    status: z.enum(['closed', 'provisional', 'held']),
    creditId: z.number().int().nullable(),
    inputsSha256: z.string().nullable(),
    /** The record's corrections in order (ledger.ts); empty before the close. */
    adjustments: z.array(CreditAdjustment),
    /** creditCents + every adjustment: what the customer is credited. */
    netCreditCents: count,
    /** 'void' after a void not (yet) reissued. */
    creditStatus: z.enum(['active', 'void']),
    figures: CustomerMonth,
  })
  .openapi('CreditReportItem')
export type CreditReportItem = z.infer<typeof CreditReportItem>

export const CreditReport = z
  .object({
    month: MonthKey,
    generatedAt: instant,
    /** The month's hold (null: never held): while 'held', no record is issued. */
    hold: MonthHold.nullable(),
    items: z.array(CreditReportItem),
  })
  .openapi('CreditReport')
export type CreditReport = z.infer<typeof CreditReport>

/** What a close of one month did. */
export const CloseResult = z
  .object({
    month: MonthKey,
    /**
     * closed: every customer of the month has its record; deferred: the outbox still holds
     * telemetry of the month (retried by the next run); held: telemetry is missing for minutes the
     * witness saw served (an admin releases it).
     */
    status: z.enum(['closed', 'deferred', 'held']),
    /** Customers computed in this run (those without a record). */
    computed: count,
    /** Records this run wrote. */
    issued: count,
    /** Why the month was deferred or held. */
    reason: z.string().nullable(),
    /** The month's hold, if it was ever held. */
    hold: MonthHold.nullable(),
  })
  .openapi('CloseResult')
export type CloseResult = z.infer<typeof CloseResult>
