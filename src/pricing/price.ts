// Pricing usage: worker-seconds x the pool's price per worker-second, plus tokens x the model's
// price per million, each at the price in effect on the UTC day the work happened. Prices change
// only on day boundaries (`effectiveFrom`), so summing per day and pricing each day is exact, also
// with a price change mid-month. Work with no price that day is priced at 0 and named in
// `unpriced`, never guessed.
//
// Token kinds follow the OpenTelemetry GenAI conventions: input tokens include the cache reads and
// cache writes, output tokens include reasoning. So input less the cache subsets is priced at the
// input price and each subset at its own price (the input price when the model has none); output
// less reasoning at the output price and reasoning at its own price, only where one is set.
// Nothing is charged twice (docs/sla.md, "Cost", has a worked example).
import { z } from '@hono/zod-openapi'
import type { PriceList } from './schema.ts'

/** The entry in effect on `day` (the latest effectiveFrom at or before it) among those that match. */
function priceOn<T extends { effectiveFrom: string }>(
  list: readonly T[],
  match: (p: T) => boolean,
  day: string,
): T | undefined {
  let best: T | undefined
  for (const p of list) {
    if (match(p) && p.effectiveFrom <= day && (!best || p.effectiveFrom > best.effectiveFrom)) best = p
  }
  return best
}

const round6 = (x: number) => Math.round(x * 1e6) / 1e6

/** One model's tokens and their cost. */
const ModelTokens = z.object({
  inputTokens: z.number().int(),
  outputTokens: z.number().int(),
  cacheReadTokens: z.number().int(),
  cacheWriteTokens: z.number().int(),
  reasoningTokens: z.number().int(),
  cost: z.number(),
})

/** A priced set of usage: one run's, or one customer-month's (docs/sla.md, "Cost"). */
export const CostFigures = z
  .object({
    currency: z.string(),
    total: z.number(),
    infrastructure: z.number(),
    ai: z.number(),
    workerSeconds: z.number(),
    inputTokens: z.number().int(),
    outputTokens: z.number().int(),
    /** Of the input tokens: read from the prompt cache. */
    cacheReadTokens: z.number().int(),
    /** Of the input tokens: written to the prompt cache. */
    cacheWriteTokens: z.number().int(),
    /** Of the output tokens: spent on reasoning. */
    reasoningTokens: z.number().int(),
    byProject: z.record(z.string(), z.number()),
    byRunType: z.record(z.string(), z.number()),
    byModel: z.record(z.string(), ModelTokens),
    byPool: z.record(z.string(), z.object({ workerSeconds: z.number(), cost: z.number() })),
    daily: z.array(z.object({ day: z.iso.date(), cost: z.number() })),
    /** Work priced at 0 because no price was configured for it on that day. */
    unpriced: z.object({ models: z.array(z.string()), pools: z.array(z.string()) }),
  })
  .openapi('CostFigures')

export type CostFigures = z.infer<typeof CostFigures>

/** Worker time of one pool on one UTC day `d` (YYYY-MM-DD), optionally by project `p` and run type `t`. */
export interface WorkUsage {
  pool: string
  d: string
  ms: number
  p?: string
  t?: string
}

/**
 * Tokens of one model on one UTC day `d`: `i` input, `o` output; of those, `cr` cache reads and
 * `cw` cache writes (in `i`) and `r` reasoning (in `o`), 0 when absent.
 */
export interface TokenUsage {
  model: string
  d: string
  i: number
  o: number
  cr?: number
  cw?: number
  r?: number
  p?: string
  t?: string
}

type ModelPrice = PriceList['models'][number]

/** The cost of `u`'s tokens at `price` (see the file header for the rule). */
export function tokenCost(price: ModelPrice, u: Omit<TokenUsage, 'model' | 'd'>): number {
  const i = Number(u.i)
  const o = Number(u.o)
  const cr = Number(u.cr ?? 0)
  const cw = Number(u.cw ?? 0)
  const r = Number(u.r ?? 0)
  return (
    (Math.max(0, i - cr - cw) * price.inputPerMillion +
      cr * (price.cacheReadPerMillion ?? price.inputPerMillion) +
      cw * (price.cacheWritePerMillion ?? price.inputPerMillion) +
      Math.max(0, o - r) * price.outputPerMillion +
      r * (price.reasoningPerMillion ?? price.outputPerMillion)) /
    1e6
  )
}

/** Adds up priced usage rows into CostFigures (rounded to 6 decimals once, at the end). */
export class CostAccumulator {
  private readonly f: CostFigures
  private readonly days = new Map<string, number>()
  private readonly unpricedModels = new Set<string>()
  private readonly unpricedPools = new Set<string>()
  constructor(
    private readonly prices: PriceList,
    currency: string = prices.currency,
  ) {
    this.f = {
      currency,
      total: 0,
      infrastructure: 0,
      ai: 0,
      workerSeconds: 0,
      inputTokens: 0,
      outputTokens: 0,
      cacheReadTokens: 0,
      cacheWriteTokens: 0,
      reasoningTokens: 0,
      byProject: {},
      byRunType: {},
      byModel: {},
      byPool: {},
      daily: [],
      unpriced: { models: [], pools: [] },
    }
  }
  private add(kind: 'infrastructure' | 'ai', amount: number, day: string, p = '', t = '') {
    this.f[kind] += amount
    this.f.total += amount
    this.f.byProject[p] = (this.f.byProject[p] ?? 0) + amount
    this.f.byRunType[t] = (this.f.byRunType[t] ?? 0) + amount
    this.days.set(day, (this.days.get(day) ?? 0) + amount)
  }
  work(r: WorkUsage): void {
    const seconds = Number(r.ms) / 1000
    const price = priceOn(this.prices.pools, (x) => x.pool === r.pool, r.d)
    if (!price) this.unpricedPools.add(r.pool)
    const amount = seconds * (price?.perWorkerSecond ?? 0)
    this.f.workerSeconds += seconds
    this.f.byPool[r.pool] ??= { workerSeconds: 0, cost: 0 }
    const pool = this.f.byPool[r.pool]!
    pool.workerSeconds += seconds
    pool.cost += amount
    this.add('infrastructure', amount, r.d, r.p, r.t)
  }
  tokens(r: TokenUsage): void {
    const price = priceOn(this.prices.models, (x) => x.model === r.model, r.d)
    if (!price) this.unpricedModels.add(r.model)
    const amount = price ? tokenCost(price, r) : 0
    const counts = {
      inputTokens: Number(r.i),
      outputTokens: Number(r.o),
      cacheReadTokens: Number(r.cr ?? 0),
      cacheWriteTokens: Number(r.cw ?? 0),
      reasoningTokens: Number(r.r ?? 0),
    }
    this.f.byModel[r.model] ??= {
      inputTokens: 0,
      outputTokens: 0,
      cacheReadTokens: 0,
      cacheWriteTokens: 0,
      reasoningTokens: 0,
      cost: 0,
    }
    const model = this.f.byModel[r.model]!
    for (const k of Object.keys(counts) as (keyof typeof counts)[]) {
      this.f[k] += counts[k]
      model[k] += counts[k]
    }
    model.cost += amount
    this.add('ai', amount, r.d, r.p, r.t)
  }
  done(): CostFigures {
    const f = this.f
    f.total = round6(f.total)
    f.infrastructure = round6(f.infrastructure)
    f.ai = round6(f.ai)
    f.workerSeconds = round6(f.workerSeconds)
    for (const k of Object.keys(f.byProject)) f.byProject[k] = round6(f.byProject[k]!)
    for (const k of Object.keys(f.byRunType)) f.byRunType[k] = round6(f.byRunType[k]!)
    for (const m of Object.values(f.byModel)) m.cost = round6(m.cost)
    for (const p of Object.values(f.byPool)) {
      p.cost = round6(p.cost)
      p.workerSeconds = round6(p.workerSeconds)
    }
    f.daily = [...this.days]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([day, cost]) => ({ day, cost: round6(cost) }))
    f.unpriced = { models: [...this.unpricedModels].sort(), pools: [...this.unpricedPools].sort() }
    return f
  }
}

/** Prices a set of work and token rows (one run, one customer-month) in the list's currency. */
export function priceUsage(prices: PriceList, work: WorkUsage[], tokens: TokenUsage[]): CostFigures {
  const acc = new CostAccumulator(prices)
  for (const r of work) acc.work(r)
  for (const r of tokens) acc.tokens(r)
  return acc.done()
}
