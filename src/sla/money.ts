// Money and percentages as the SLA engine shows them (docs/sla.md, "How each figure is computed —
// credits"). Amounts are integer cents, computed once per customer-month with exact integer
// arithmetic and rounded half up to the cent; percentages are shown rounded down, never up.

const SCALE = 1_000_000n
/** A percentage (up to 6 decimals) as an integer in millionths of a percent. */
const scaledPercent = (percent: number) => BigInt(Math.round(percent * 1_000_000))

/** `percent`% of `cents`, exactly, rounded half up to the cent (10% of 3,333.3 cents is 3,333). */
export function percentOfCents(cents: number, percent: number): number {
  const num = BigInt(cents) * scaledPercent(percent)
  const den = 100n * SCALE
  return Number((2n * num + den) / (2n * den))
}

/** Cents as a decimal amount with two places: -10000 → "-100.00" (integer arithmetic, no float). */
export function formatCents(cents: number): string {
  const abs = Math.abs(cents)
  const units = Math.floor(abs / 100)
  return `${cents < 0 ? '-' : ''}${units}.${String(abs % 100).padStart(2, '0')}`
}

/**
 * A percentage for people, rounded down to two decimals, trailing zeros dropped: 99.8999 → "99.89",
 * 95 → "95", 99.9 → "99.9". A figure just under a target never shows as the target.
 */
export function formatPercent(percent: number): string {
  // Figures carry at most 4 decimals (months.ts percentOf), so their 4-decimal text is exact.
  const [int, frac = ''] = Math.abs(percent).toFixed(4).split('.')
  const two = frac.slice(0, 2).replace(/0+$/, '')
  return `${percent < 0 ? '-' : ''}${int}${two ? `.${two}` : ''}`
}
