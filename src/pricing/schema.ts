// The price list: what a model's tokens and a pool's worker-seconds cost, each from its effective
// UTC day until the next entry of the same model or pool. A model entry prices input and output
// tokens and, optionally, cache reads, cache writes and reasoning (docs/sla.md, "Cost"); a config
// without them prices as before. The config file's `prices` section
// (also accepted as `sla.prices`, where it lived first); one definition for every module that
// prices work (run detail, SLA cost figures, the cost dashboard).
import { z } from 'zod'

const day = z.iso.date() // YYYY-MM-DD, UTC
const currency = z.string().regex(/^[A-Z]{3}$/, 'ISO 4217 code')

export const modelPriceSchema = z
  .object({
    model: z.string().min(1),
    /** First UTC day this price applies (until the next entry of the same model). */
    effectiveFrom: day,
    inputPerMillion: z.number().nonnegative(),
    outputPerMillion: z.number().nonnegative(),
    /** Input tokens read from the prompt cache (a subset of input tokens); unset: the input price. */
    cacheReadPerMillion: z.number().nonnegative().optional(),
    /** Input tokens written to the prompt cache (a subset of input tokens); unset: the input price. */
    cacheWritePerMillion: z.number().nonnegative().optional(),
    /** Reasoning tokens (a subset of output tokens); unset: the output price. */
    reasoningPerMillion: z.number().nonnegative().optional(),
  })
  .strict()

export const poolPriceSchema = z
  .object({
    pool: z.string().min(1),
    effectiveFrom: day,
    perWorkerSecond: z.number().nonnegative(),
  })
  .strict()

/**
 * One component of the control plane's fixed monthly cost (database, queue, replicas, ClickHouse,
 * monitoring...): `monthlyAmount` from its effective UTC day until the next entry of the same
 * component (docs/cost.md).
 */
export const fixedCostSchema = z
  .object({
    component: z.string().min(1).max(128),
    effectiveFrom: day,
    monthlyAmount: z.number().nonnegative().max(1e12),
    /** Must be the list's currency: there are no exchange rates (docs/cost.md). */
    currency,
  })
  .strict()

/** How the fixed cost is shared among the customers of a month (docs/cost.md, "Allocation"). */
export const allocationPolicySchema = z.enum(['equal', 'proportional', 'fixed_percent'])

export const priceListSchema = z
  .object({
    /** Currency of every price (cost figures are reported in it): the one reporting currency. */
    currency: currency.default('USD'),
    models: z.array(modelPriceSchema).default([]),
    pools: z.array(poolPriceSchema).default([]),
    /** The control plane's fixed monthly cost, as a price list of named components. */
    fixed: z.array(fixedCostSchema).default([]),
    /** How the fixed cost is allocated to customers: `equal`, `proportional` or `fixed_percent`. */
    allocation: allocationPolicySchema.default('equal'),
  })
  .strict()
  .superRefine((list, ctx) => {
    list.fixed.forEach((f, i) => {
      if (f.currency !== list.currency)
        ctx.addIssue({
          code: 'custom',
          path: ['fixed', i, 'currency'],
          message: `fixed cost "${f.component}" is in ${f.currency} but prices are reported in ${list.currency}; no exchange rates are configured`,
        })
    })
  })
  .prefault({})

export type PriceList = z.output<typeof priceListSchema>
/** A price list as written in a config file (defaults not yet applied). */
export type PriceListInput = z.input<typeof priceListSchema>
