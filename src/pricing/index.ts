// Pricing (docs/sla.md, "Cost"): the price list, pricing a run's or a month's usage, and the copy
// of the list in ClickHouse for the cost dashboard. The orchestrator (a run's cost), the SLA
// engine (a month's cost) and the dashboards import it; it imports none of them.
import { defineModule, type StewardModule } from '../module.ts'
import { type CostFigures, priceUsage, type TokenUsage, type WorkUsage } from './price.ts'
import { type PriceList, priceListSchema } from './schema.ts'
import { syncPrices } from './sync.ts'

export interface PricingModule extends StewardModule {
  readonly prices: PriceList
  /** Prices work and token rows at the list's prices on each row's day. */
  price(work: WorkUsage[], tokens: TokenUsage[]): CostFigures
}

export const createPricing = defineModule('prices', priceListSchema, (ctx): PricingModule => {
  const prices = ctx.config
  const ch = ctx.clickhouse
  return {
    name: 'pricing',
    prices,
    price: (work, tokens) => priceUsage(prices, work, tokens),
    // The cost dashboard prices usage in SQL: give ClickHouse this instance's price list.
    async start() {
      if (ch) await syncPrices(ch, prices)
    },
  }
})

export { allocateCents, type FixedCostOfMonth, fixedCostOfMonth } from './fixed.ts'
export { CostAccumulator, CostFigures, type TokenUsage, type WorkUsage } from './price.ts'
export { allocationPolicySchema, type PriceList, type PriceListInput, priceListSchema } from './schema.ts'
export { syncPrices } from './sync.ts'
