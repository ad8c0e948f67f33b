// Profitability of a month (docs/cost.md): the control plane's fixed cost, how it was shared out,
// and per customer its revenue (plan fee less the net credit), its cost (fixed share, variable
// infrastructure, AI tokens) and the margin. The body of GET /v1/costs and `steward report costs`.
import { z } from '@hono/zod-openapi'
import { allocationPolicySchema } from '../../pricing/index.ts'
import { count, instant, MonthKey } from './plan.ts'

const cents = z.number().int()

export const Margin = z
  .object({
    /** 'unmeasured': the plan is in another currency than the costs and no exchange rate is configured. */
    status: z.enum(['measured', 'unmeasured']),
    /** Why the margin is unmeasured (null when measured). */
    reason: z.string().nullable(),
    /** Revenue less cost, in cents (null when unmeasured). */
    cents: cents.nullable(),
    /** Margin as % of revenue, rounded toward zero to 2 decimals (null when unmeasured or revenue is not above 0). */
    percent: z.number().nullable(),
  })
  .openapi('Margin')
export type Margin = z.infer<typeof Margin>

/** One month of a customer's trend: what its margin was. */
export const MarginTrendPoint = z
  .object({
    month: MonthKey,
    status: z.enum(['frozen', 'provisional']),
    revenueCents: cents,
    costCents: cents,
    margin: Margin,
  })
  .openapi('MarginTrendPoint')

export const CustomerProfit = z
  .object({
    customerId: z.string(),
    /** Minutes of the month (to date) the customer was in service: weights its share under `equal`. */
    minutesInService: count,
    /** The customer's `fixedCostPercent` setting when the shares were set (null: none). */
    fixedCostPercent: z.number().nullable(),
    /** Its share of the fixed cost (cost currency). */
    fixedCents: cents,
    /** Worker-seconds at the pools' prices (cost currency). */
    infrastructureCents: cents,
    /** AI tokens at the models' prices (cost currency). */
    aiCents: cents,
    /** fixed + infrastructure + AI. */
    costCents: cents,
    /** The plan's monthly fee (plan currency). */
    feeCents: cents,
    /** The credit issued at the close (provisional: what the close would issue now). */
    creditCents: cents,
    /** The sum of the credit's corrections since (void, reissue, goodwill). */
    adjustmentCents: cents,
    /** creditCents + adjustmentCents. */
    netCreditCents: cents,
    /** feeCents - netCreditCents (plan currency). */
    revenueCents: cents,
    planCurrency: z.string(),
    margin: Margin,
    /** The customer's closed credit record (null while provisional). */
    creditId: z.number().int().nullable(),
    /** Up to the last 12 months up to this one, oldest first: frozen months and this one. */
    trend: z.array(MarginTrendPoint),
  })
  .openapi('CustomerProfit')
export type CustomerProfit = z.infer<typeof CustomerProfit>

export const FixedCostComponent = z
  .object({
    component: z.string(),
    cents: cents,
    prices: z.array(z.object({ effectiveFrom: z.iso.date(), monthlyAmount: z.number(), days: count })),
  })
  .openapi('FixedCostComponent')

export const CostReport = z
  .object({
    month: MonthKey,
    /** 'frozen': fixed at the month's SLA close; 'provisional': computed now, and may still change. */
    status: z.enum(['frozen', 'provisional']),
    /** 'month-to-date' while the month runs (variable cost so far); 'complete' once it has ended. */
    period: z.enum(['complete', 'month-to-date']),
    computedAt: instant,
    /** When the figures were frozen (null while provisional). */
    frozenAt: instant.nullable(),
    /** The reporting currency: of every cost figure (the price list's). */
    currency: z.string(),
    policy: allocationPolicySchema,
    /** The rule that set the shares: the policy, or `equal` when `proportional` had no variable cost to go by. */
    basis: allocationPolicySchema,
    fixed: z.object({ totalCents: cents, components: z.array(FixedCostComponent) }),
    /** Fixed cost no customer carries (`fixed_percent` when the percentages leave some and every customer has one; or no customer in service). */
    unallocatedCents: cents,
    /** Sums over the customers (cost currency). */
    totals: z.object({
      fixedCents: cents,
      infrastructureCents: cents,
      aiCents: cents,
      costCents: cents,
    }),
    /** SHA-256 of the canonical JSON of the inputs the shares were computed from (frozen months). */
    inputsSha256: z.string().nullable(),
    customers: z.array(CustomerProfit),
  })
  .openapi('CostReport')
export type CostReport = z.infer<typeof CostReport>
