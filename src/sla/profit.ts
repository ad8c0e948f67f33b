// Allocation of the fixed cost and profitability per customer-month, from their inputs only (no
// I/O): the provisional report and the frozen one run the same arithmetic (docs/cost.md).
//
// Guarantees:
// - the customers' shares plus `unallocatedCents` are the month's fixed cost, to the cent, under
//   every policy (largest remainder, pricing's `allocateCents`);
// - a customer in service part of the month is weighted by its minutes in service: under `equal`
//   its weight is those minutes; under `fixed_percent` its percentage applies to that fraction of
//   the factory's minutes in service; under `proportional` its variable cost already is its usage;
// - every amount is integer cents; a margin is measured only when the plan's currency is the
//   reporting currency, never converted at a guessed rate.
import { allocateCents, type FixedCostOfMonth } from '../pricing/index.ts'
import type { CostReport, CustomerProfit, Margin } from './schemas/costs.ts'

/** What a customer's month contributes: its usage, its money and its settings. */
export interface ProfitInput {
  customerId: string
  minutesInService: number
  fixedCostPercent: number | null
  infrastructureCents: number
  aiCents: number
  feeCents: number
  creditCents: number
  planCurrency: string
  creditId: number | null
}

/** Everything the shares are computed from: frozen as it is, with its hash. */
export interface AllocationInputs {
  month: string
  currency: string
  policy: CostReport['policy']
  /** Minutes (to date) the factory was in service: the whole under `fixed_percent`. */
  factoryMinutes: number
  fixed: FixedCostOfMonth
  customers: ProfitInput[]
}

export interface Allocation {
  basis: CostReport['basis']
  shares: Map<string, number>
  unallocatedCents: number
}

const UNALLOCATED = '\u0000unallocated'
/** A percentage with up to 4 decimals as an integer in 10^-4 % (100% = 1,000,000). */
const percentUnits = (p: number) => BigInt(Math.round(p * 10_000))
const WHOLE = 1_000_000n

/** Weights for `fixed_percent` (docs/cost.md): what each percentage claims, the rest to the others. */
function fixedPercentWeights(inputs: AllocationInputs): { key: string; weight: bigint }[] {
  const m = BigInt(inputs.factoryMinutes)
  const withPercent = inputs.customers.filter((c) => c.fixedCostPercent !== null)
  const others = inputs.customers.filter((c) => c.fixedCostPercent === null)
  const claimed = withPercent.map((c) => ({
    key: c.customerId,
    weight: percentUnits(c.fixedCostPercent!) * BigInt(c.minutesInService),
  }))
  const whole = WHOLE * m
  const rest = whole - claimed.reduce((a, w) => a + w.weight, 0n)
  // Percentages above 100% in all: each is scaled down by the same factor (shares by percentage).
  if (rest < 0n) return claimed
  const otherMinutes = others.reduce((a, c) => a + BigInt(c.minutesInService), 0n)
  if (otherMinutes === 0n) return [...claimed, { key: UNALLOCATED, weight: rest }]
  return [
    ...claimed.map((w) => ({ ...w, weight: w.weight * otherMinutes })),
    ...others.map((c) => ({ key: c.customerId, weight: rest * BigInt(c.minutesInService) })),
  ]
}

/** The customers' shares of the fixed cost under the month's policy. */
export function allocate(inputs: AllocationInputs): Allocation {
  const byMinutes = inputs.customers.map((c) => ({ key: c.customerId, weight: BigInt(c.minutesInService) }))
  let basis: CostReport['basis'] = inputs.policy
  let weights = byMinutes
  if (inputs.policy === 'proportional') {
    weights = inputs.customers.map((c) => ({
      key: c.customerId,
      weight: BigInt(c.infrastructureCents + c.aiCents),
    }))
    // No variable cost at all: nothing to be proportional to, so shared by minutes in service.
    if (weights.every((w) => w.weight === 0n)) {
      basis = 'equal'
      weights = byMinutes
    }
  } else if (inputs.policy === 'fixed_percent' && inputs.factoryMinutes > 0) {
    weights = fixedPercentWeights(inputs)
  }
  const total = inputs.fixed.totalCents
  const all = allocateCents(total, weights)
  all.delete(UNALLOCATED)
  const shared = [...all.values()].reduce((a, x) => a + x, 0)
  // What no customer carries: the unallocated weight's share, or all of it when nobody was in service.
  return { basis, shares: all, unallocatedCents: total - shared }
}

/** The margin of `revenue` over `cost`, measured only in one currency. */
export function marginOf(
  revenueCents: number,
  costCents: number,
  planCurrency: string,
  currency: string,
): Margin {
  if (planCurrency !== currency)
    return {
      status: 'unmeasured',
      reason: `the plan is in ${planCurrency}, costs are in ${currency}, and no exchange rate is configured`,
      cents: null,
      percent: null,
    }
  const cents = revenueCents - costCents
  // Hundredths of a percent, truncated toward zero (BigInt division): never shows more than it is.
  const percent = revenueCents > 0 ? Number((BigInt(cents) * 10_000n) / BigInt(revenueCents)) / 100 : null
  return { status: 'measured', reason: null, cents, percent }
}

/** One customer's profitability (its trend is added by the caller). */
export function profitOf(
  c: ProfitInput,
  fixedCents: number,
  adjustmentCents: number,
  currency: string,
): Omit<CustomerProfit, 'trend'> {
  const costCents = fixedCents + c.infrastructureCents + c.aiCents
  const netCreditCents = c.creditCents + adjustmentCents
  const revenueCents = c.feeCents - netCreditCents
  return {
    customerId: c.customerId,
    minutesInService: c.minutesInService,
    fixedCostPercent: c.fixedCostPercent,
    fixedCents,
    infrastructureCents: c.infrastructureCents,
    aiCents: c.aiCents,
    costCents,
    feeCents: c.feeCents,
    creditCents: c.creditCents,
    adjustmentCents,
    netCreditCents,
    revenueCents,
    planCurrency: c.planCurrency,
    margin: marginOf(revenueCents, costCents, c.planCurrency, currency),
    creditId: c.creditId,
  }
}
