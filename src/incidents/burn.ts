// Multi-window, multi-burn-rate alerting (SRE workbook ch. 5): burn rate = error ratio / (1 - SLO);
// a pair fires when both its long and its short window burn faster than the pair's rate — the long
// window proves the budget is really going, the short one that it is still going now (so the alert
// resets quickly after recovery).
import type { BurnPair } from './config.ts'
import type { Severity } from './schemas.ts'

export interface WindowCount {
  bad: number
  total: number
}

export interface BurnVerdict {
  pair: BurnPair
  longBurn: number
  shortBurn: number
  /** Share of the period's error budget the long window consumed at this rate. */
  budgetConsumed: number
}

const severityRank: Record<Severity, number> = { info: 0, warning: 1, error: 2, critical: 3 }
export const isHigher = (a: Severity, than: Severity) => severityRank[a] > severityRank[than]

export function burnRate(c: WindowCount | undefined, slo: number): number {
  if (!c || c.total === 0) return 0
  // Budget as a rounded decimal: 1 - 0.999 is 0.0010000000000000009 in binary floating point.
  const budget = Math.round((1 - slo) * 1e9) / 1e9
  return c.bad / c.total / budget
}

/**
 * The most severe firing pair, or undefined. `counts` maps a window length (minutes) to its counts;
 * `minTotal` keeps a quiet source (three runs, one failed) from paging.
 */
export function evaluateBurn(
  counts: Map<number, WindowCount>,
  pairs: BurnPair[],
  slo: number,
  minTotal: number,
  periodMinutes = 30 * 24 * 60,
): BurnVerdict | undefined {
  let best: BurnVerdict | undefined
  for (const pair of pairs) {
    const long = counts.get(pair.longMinutes)
    const short = counts.get(pair.shortMinutes)
    if (!long || long.total < minTotal || !short || short.total === 0) continue
    const longBurn = burnRate(long, slo)
    const shortBurn = burnRate(short, slo)
    if (longBurn > pair.burn && shortBurn > pair.burn) {
      const verdict = {
        pair,
        longBurn,
        shortBurn,
        budgetConsumed: (longBurn * pair.longMinutes) / periodMinutes,
      }
      if (!best || isHigher(pair.severity, best.pair.severity)) best = verdict
    }
  }
  return best
}

/** Every window length the pairs need, longest first. */
export const windowsOf = (pairs: BurnPair[]): number[] =>
  [...new Set(pairs.flatMap((p) => [p.longMinutes, p.shortMinutes]))].sort((a, b) => b - a)
