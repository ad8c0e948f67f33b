// The budgets module's resources: a customer's budget this month (GET /v1/customers/{id}/budget),
// an admin's action on it, and the notice a crossed threshold sends (docs/cost.md, "Budgets").
import { z } from '@hono/zod-openapi'
import { METRICS, THRESHOLDS } from './figures.ts'

const time = z.iso.datetime()
const cents = z.number().int()
const Metric = z
  .enum(METRICS)
  .openapi({ description: '`aiTokens` (AI tokens only) or `total` (infrastructure + AI)' })
const Threshold = z.union(
  THRESHOLDS.map((t) => z.literal(t)) as [z.ZodLiteral<50>, z.ZodLiteral<80>, z.ZodLiteral<100>],
)
export const BudgetPolicy = z.enum(['notify', 'fallback', 'pause'])

export const BudgetActionKind = z.enum(['pause', 'fallback', 'lift', 'release', 'enforce'])
export type BudgetActionKind = z.infer<typeof BudgetActionKind>

/** One recorded action: the policy acting or lifting, or an admin's release or re-enforcement. */
export const BudgetAction = z
  .object({
    id: z.number().int(),
    month: z.string().openapi({ example: '2026-11' }),
    action: BudgetActionKind,
    /** `budget reached`, `budget raised`, `budget removed`, `policy changed`, `month turned`, or `admin`. */
    cause: z.string(),
    /** `steward` (the policy) or `admin`. */
    actor: z.string(),
    reason: z.string().nullable(),
    at: time,
  })
  .openapi('BudgetAction')
export type BudgetAction = z.infer<typeof BudgetAction>

export const BudgetMetricStatus = z.object({
  metric: Metric,
  budgetCents: cents,
  spentCents: cents,
  /** Spent in % of the budget, rounded down to one decimal (null for a budget of 0). */
  percent: z.number().nullable(),
  /** Each threshold, and when this month's spend was first seen past it (null: not yet). */
  thresholds: z.array(z.object({ threshold: Threshold, crossedAt: time.nullable() })),
  forecast: z.object({
    /** The month's spend at its average rate so far (cents). */
    monthEndCents: cents,
    /** When that rate reaches the budget; null: not this month, or already reached. */
    reachesBudgetAt: time.nullable(),
  }),
})

export const BudgetStatus = z
  .object({
    customerId: z.string(),
    month: z.string(),
    asOf: time,
    /**
     * `none`: no budget set; `unmeasured`: the budget's currency (the plan's) is not the costs'
     * and no exchange rate is configured, so nothing is compared; `measured`: the figures below.
     */
    status: z.enum(['none', 'unmeasured', 'measured']),
    reason: z.string().optional(),
    /** The plan's currency (the budget's; null without a budget); the costs' when they differ is in `reason`. */
    currency: z.string().nullable(),
    policy: BudgetPolicy,
    metrics: z.array(BudgetMetricStatus),
    /** Usage priced at 0 because no price covers it: the spend is a lower bound. */
    unpriced: z.object({ models: z.array(z.string()), pools: z.array(z.string()) }),
    /** What the policy does now: nothing, holds new runs, runs fallbacks; or an admin released it. */
    enforcement: z.object({
      state: z.enum(['none', 'paused', 'fallback', 'released']),
      since: time.nullable(),
    }),
    /** This month's actions, newest first. */
    actions: z.array(BudgetAction),
  })
  .openapi('BudgetStatus')
export type BudgetStatus = z.infer<typeof BudgetStatus>

/** An admin's action: lift the policy's action for the rest of the month, or let it act again. */
export const BudgetActionRequest = z
  .object({
    action: z.enum(['release', 'enforce']),
    reason: z.string().trim().min(1).max(500),
  })
  .strict()
  .openapi('BudgetActionRequest')

/** The payload of a `budget.threshold` notice (webhook and e-mail). */
export const BudgetNotice = z
  .object({
    month: z.string(),
    metric: Metric,
    threshold: Threshold,
    currency: z.string(),
    budget: z.string().openapi({ example: '500.00' }),
    spent: z.string(),
    budgetCents: cents,
    spentCents: cents,
    /** What happens at 100%: `notify`, `fallback` or `pause`. */
    policy: BudgetPolicy,
    forecast: z.object({ monthEnd: z.string(), reachesBudgetAt: time.nullable() }),
    /** The API path of the budget's status. */
    status: z.string(),
  })
  .openapi('BudgetNotice')
export type BudgetNotice = z.infer<typeof BudgetNotice>
