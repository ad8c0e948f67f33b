// The control plane's fixed cost of a month, and sharing an amount of cents out by weights.
//
// Guarantees (docs/cost.md):
// - a component's month is exact: each UTC day of the month costs the monthly amount in effect
//   that day divided by the month's days, summed exactly (integer arithmetic) and rounded to the
//   cent once per component, half up; the month's total is the sum of its components' cents, so
//   the breakdown always adds up to the total;
// - a price change in the middle of a month applies from its effective day on; a day on which a
//   component has no price yet costs 0 for it;
// - `allocateCents` shares out exactly the amount it is given, to the cent, by the largest
//   remainder: every share gets the whole cents of its exact quota, and the cents left over go one
//   each to the largest fractional remainders; equal remainders go to the larger weight, then to the
//   key that sorts first (plain code-unit order).
import type { PriceList } from './schema.ts'

const DAY_MS = 86_400_000
const DECIMALS = 15
/** An amount as written (up to 15 decimals) as an integer in 10^-15 of a unit. */
const exact = (amount: number) => BigInt(amount.toFixed(DECIMALS).replace('.', ''))
const UNIT = 10n ** BigInt(DECIMALS)

/** num/den in cents of a 10^-15-unit amount, rounded half up (num, den > 0). */
const halfUp = (num: bigint, den: bigint) => (2n * num + den) / (2n * den)

export interface FixedComponent {
  component: string
  /** The component's cost for the month in cents (rounded once, half up). */
  cents: number
  /** Each price that applied in the month and on how many of its days. */
  prices: { effectiveFrom: string; monthlyAmount: number; days: number }[]
}

export interface FixedCostOfMonth {
  currency: string
  /** The sum of the components' cents. */
  totalCents: number
  components: FixedComponent[]
}

/** The fixed cost of the month that starts on `start` and ends (exclusive) on `end`, UTC days. */
export function fixedCostOfMonth(prices: PriceList, start: Date, end: Date): FixedCostOfMonth {
  const days: string[] = []
  for (let t = start.getTime(); t < end.getTime(); t += DAY_MS)
    days.push(new Date(t).toISOString().slice(0, 10))
  const names = [...new Set(prices.fixed.map((f) => f.component))].sort()
  const components = names.map((component): FixedComponent => {
    const entries = prices.fixed
      .filter((f) => f.component === component)
      .sort((a, b) => a.effectiveFrom.localeCompare(b.effectiveFrom))
    const used = new Map<(typeof entries)[number], number>()
    for (const d of days) {
      const e = entries.findLast((x) => x.effectiveFrom <= d)
      if (e) used.set(e, (used.get(e) ?? 0) + 1)
    }
    let sum = 0n
    for (const [e, n] of used) sum += exact(e.monthlyAmount) * BigInt(n)
    return {
      component,
      cents: Number(halfUp(sum * 100n, UNIT * BigInt(days.length))),
      prices: [...used].map(([e, n]) => ({
        effectiveFrom: e.effectiveFrom,
        monthlyAmount: e.monthlyAmount,
        days: n,
      })),
    }
  })
  return {
    currency: prices.currency,
    totalCents: components.reduce((a, c) => a + c.cents, 0),
    components: components.filter((c) => c.prices.length > 0),
  }
}

/**
 * Shares `cents` out among `weights` (non-negative) by the largest remainder: the shares add up to
 * `cents` exactly. All weights 0: every share is 0 and nothing is shared (the caller keeps it).
 */
export function allocateCents(
  cents: number,
  weights: { key: string; weight: bigint }[],
): Map<string, number> {
  const total = weights.reduce((a, w) => a + w.weight, 0n)
  const out = new Map(weights.map((w) => [w.key, 0]))
  if (total === 0n || cents === 0) return out
  const t = BigInt(cents)
  const rest = weights.map((w) => {
    const q = t * w.weight
    out.set(w.key, Number(q / total))
    return { ...w, remainder: q % total }
  })
  let left = cents - [...out.values()].reduce((a, x) => a + x, 0)
  rest.sort((a, b) =>
    a.remainder !== b.remainder
      ? a.remainder > b.remainder
        ? -1
        : 1
      : a.weight !== b.weight
        ? a.weight > b.weight
          ? -1
          : 1
        : a.key < b.key
          ? -1
          : a.key > b.key
            ? 1
            : 0,
  )
  for (const r of rest) {
    if (left <= 0) break
    out.set(r.key, out.get(r.key)! + 1)
    left--
  }
  return out
}
