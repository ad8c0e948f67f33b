// The payload of the SLA notices a monthly close queues for each customer (`sla.credit_issued` when
// the month earned a credit, else `sla.monthly_report`): what the customer's webhook receives and
// what the e-mail of the notice is written from.
import { z } from '@hono/zod-openapi'
import { TierHit } from './figures.ts'
import { MonthKey, percent } from './plan.ts'

export const SlaNotice = z
  .object({
    month: MonthKey,
    /** The immutable credit record of the month (sla_credits). */
    creditId: z.number().int(),
    creditPercent: percent,
    /** The credit in the plan's currency, two decimals ("100.00"). */
    creditAmount: z.string(),
    /** ISO 4217 code of the plan's currency. */
    currency: z.string(),
    /** The billing cycle the credit is applied to (the month after). */
    billingCycle: MonthKey,
    uptimePercent: z.number(),
    uptimeTarget: z.number(),
    /** null: no run finished in the month. */
    successRate: z.number().nullable(),
    successRateTarget: z.number(),
    tiers: z.array(TierHit),
    /** Path of the customer's HTML credit report of the month (under the API's URL; needs a token). */
    report: z.string(),
  })
  .openapi('SlaNotice')
export type SlaNotice = z.infer<typeof SlaNotice>
