// A budget's figures (docs/cost.md, "Budgets"), without I/O: how much of it is spent, which
// thresholds are crossed, and a linear forecast of the month. Integer cents throughout.

/** The thresholds that raise an event and a notice, in % of the budget. */
export const THRESHOLDS = [50, 80, 100] as const
export type Threshold = (typeof THRESHOLDS)[number]

export const METRICS = ['aiTokens', 'total'] as const
export type BudgetMetric = (typeof METRICS)[number]

export interface Forecast {
  /** The month's spend if it goes on at its average rate so far, rounded half up to the cent. */
  monthEndCents: number
  /** When that rate reaches the budget: null when it does not this month, or already has. */
  reachesBudgetAt: string | null
}

/** Thresholds (in %) that `spentCents` has reached: spent ≥ threshold% of the budget, exactly. */
export function crossedThresholds(spentCents: number, budgetCents: number): Threshold[] {
  return THRESHOLDS.filter((t) => spentCents * 100 >= t * budgetCents)
}

/** Spent in % of the budget, rounded down to one decimal (null for a budget of 0). */
export function percentSpent(spentCents: number, budgetCents: number): number | null {
  if (budgetCents <= 0) return null
  return Math.floor((spentCents * 1000) / budgetCents) / 10
}

/**
 * The linear forecast: the spend so far over the time the customer was in the month so far
 * (`from`: the month's start, or the customer's creation when later), extended to `monthEnd`.
 * No spend, or no time elapsed: the month ends where it is and the budget is not reached.
 */
export function forecast(
  spentCents: number,
  budgetCents: number,
  from: Date,
  now: Date,
  monthEnd: Date,
): Forecast {
  const elapsed = now.getTime() - from.getTime()
  if (spentCents <= 0 || elapsed <= 0) return { monthEndCents: spentCents, reachesBudgetAt: null }
  const left = Math.max(0, monthEnd.getTime() - now.getTime())
  const monthEndCents = Math.floor(spentCents + (spentCents * left) / elapsed + 0.5)
  if (spentCents >= budgetCents) return { monthEndCents, reachesBudgetAt: null }
  // The rate reaches the budget (budget − spent) / rate after now: elapsed × (budget − spent) / spent.
  const at = now.getTime() + Math.ceil((elapsed * (budgetCents - spentCents)) / spentCents)
  return { monthEndCents, reachesBudgetAt: at < monthEnd.getTime() ? new Date(at).toISOString() : null }
}

/** A budget amount (currency units, at most 2 decimals: settings.ts) in cents. */
export const budgetCents = (amount: number): number => Math.round(amount * 100)
