// Calendar months and exact percentages. Every SLA period is a UTC calendar month; every threshold
// comparison is done on integers (num/den against a percentage scaled by 10^6), so 99.9% of a
// 30-day month never suffers binary floating point (100 - 99.9 = 0.09999999999999432).

export const MINUTE_MS = 60_000
export const DAY_MS = 86_400_000

export interface Month {
  /** YYYY-MM */
  key: string
  start: Date
  /** Exclusive. */
  end: Date
  days: number
  minutes: number
}

/** A stretch of whole minutes from `start` (a month, or any window): what per-minute arrays index. */
export type Span = Pick<Month, 'start' | 'end' | 'minutes'>

const MONTH_RE = /^(\d{4})-(0[1-9]|1[0-2])$/
/**
 * The months Steward can hold: ClickHouse `DateTime` spans 1970 to 2106, and `Date.UTC` reads a
 * year below 100 as 19xx. A month outside is refused at the door, never computed.
 */
export const FIRST_MONTH = '1970-01'
export const LAST_MONTH = '2105-12'

/** A YYYY-MM key between FIRST_MONTH and LAST_MONTH. */
export function isMonthKey(s: string): boolean {
  return MONTH_RE.test(s) && s >= FIRST_MONTH && s <= LAST_MONTH
}

export function parseMonth(key: string): Month {
  const m = MONTH_RE.exec(key)
  if (!m || !isMonthKey(key))
    throw new RangeError(`month must be YYYY-MM between ${FIRST_MONTH} and ${LAST_MONTH}, got "${key}"`)
  const y = Number(m[1])
  const mo = Number(m[2]) - 1
  const start = new Date(Date.UTC(y, mo, 1))
  const end = new Date(Date.UTC(y, mo + 1, 1))
  const days = (end.getTime() - start.getTime()) / DAY_MS
  return { key, start, end, days, minutes: days * 1440 }
}

/** The month's first day, YYYY-MM-DD (how PostgreSQL \`date\` columns key a month). */
export const firstDay = (m: Month) => m.start.toISOString().slice(0, 10)

export function monthOf(d: Date): Month {
  return parseMonth(d.toISOString().slice(0, 7))
}

export function nextMonth(m: Month): Month {
  return monthOf(m.end)
}

export function previousMonth(m: Month): Month {
  return monthOf(new Date(m.start.getTime() - 1))
}

/** Months from `first` up to and including `last`. */
export function monthsBetween(first: Month, last: Month): Month[] {
  const out: Month[] = []
  for (let m = first; m.start <= last.start; m = nextMonth(m)) out.push(m)
  return out
}

const SCALE = 1_000_000
/** A percentage as an integer in millionths of a percent (99.9 → 99_900_000). */
const scaled = (percent: number) => Math.round(percent * SCALE)

/** Whether num/den (as a percentage) is strictly below `percent`, exactly. */
export function ratioBelow(num: number, den: number, percent: number): boolean {
  return BigInt(num) * 100n * BigInt(SCALE) < BigInt(scaled(percent)) * BigInt(den)
}

/**
 * num/den as a percentage rounded down to `digits` decimals, exactly (integer division): a figure
 * never shows more than was measured, so 99.89995% is 99.8999, never 99.9 (display only;
 * comparisons use ratioBelow).
 */
export function percentOf(num: number, den: number, digits = 4): number {
  if (den === 0) return 100
  if (!Number.isInteger(num) || !Number.isInteger(den)) {
    const g = 10 ** digits
    return Math.floor(((num * 100) / den) * g) / g
  }
  const f = 10n ** BigInt(digits)
  return Number((BigInt(num) * 100n * f) / BigInt(den)) / Number(f)
}

/** Downtime a target allows over `minutes` (e.g. 99.9% of 43,200 → 43.2 minutes), exactly. */
export function allowedDowntimeMinutes(targetPercent: number, minutes: number): number {
  return ((100 * SCALE - scaled(targetPercent)) * minutes) / (100 * SCALE)
}

/** 43.2 → "43m12s"; 2625.6 → "1d19h45m36s" (seconds to one decimal when fractional). */
export function formatMinutes(minutes: number): string {
  const totalTenths = Math.round(minutes * 600)
  const d = Math.floor(totalTenths / 864_000)
  const h = Math.floor((totalTenths % 864_000) / 36_000)
  const m = Math.floor((totalTenths % 36_000) / 600)
  const s = (totalTenths % 600) / 10
  const parts = [d ? `${d}d` : '', h ? `${h}h` : '', m ? `${m}m` : '', s ? `${s}s` : '']
  return parts.join('') || '0s'
}
