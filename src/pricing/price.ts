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

// Exact money: a price as an integer in 10^-15 of a unit (up to 15 decimals, as written), so a
// set of usage sums exactly: worker-ms x price x 10^3 and tokens x price-per-million are both in
// 10^-21 units. Rounded to the cent once, half up, at the end (`totalCents`).
const PRICE_DECIMALS = 15
const exactPrice = (price: number) => BigInt(price.toFixed(PRICE_DECIMALS).replace('.', ''))
const UNIT = 10n ** 21n
/** An exact amount in 10^-21 units, in cents rounded half up. */
const toCents = (exact: bigint) => Number((exact * 200n + UNIT) / (2n * UNIT))

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
    /** The total in cents: the exact sum of every priced line, rounded half up once. */
    totalCents: z.number().int(),
    /**
     * Of `totalCents`: the worker-seconds, their exact sum rounded half up once; the AI tokens are
     * the rest (`totalCents - infrastructureCents`), so the two add up to the total. Absent from
     * figures priced before it was kept.
     */
    infrastructureCents: z.number().int().optional(),
    /** The total in units, to 6 decimals (display; `totalCents` is what is billed and reported). */
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

/** The exact cost of `u`'s tokens at `price`, in 10^-21 units (see the file header for the rule). */
function exactTokenCost(price: ModelPrice, u: Omit<TokenUsage, 'model' | 'd'>): bigint {
  // Counts may arrive as strings (ClickHouse UInt64); they are whole numbers.
  const big = (x: number | undefined) => BigInt(Math.round(Number(x ?? 0)))
  const [i, o, cr, cw, r] = [big(u.i), big(u.o), big(u.cr), big(u.cw), big(u.r)]
  const atLeast0 = (x: bigint) => (x > 0n ? x : 0n)
  return (
    atLeast0(i - cr - cw) * exactPrice(price.inputPerMillion) +
    cr * exactPrice(price.cacheReadPerMillion ?? price.inputPerMillion) +
    cw * exactPrice(price.cacheWritePerMillion ?? price.inputPerMillion) +
    atLeast0(o - r) * exactPrice(price.outputPerMillion) +
    r * exactPrice(price.reasoningPerMillion ?? price.outputPerMillion)
  )
}

/** Adds up priced usage rows into CostFigures (rounded to 6 decimals once, at the end). */
export class CostAccumulator {
  private readonly f: CostFigures
  private readonly days = new Map<string, number>()
  private readonly unpricedModels = new Set<string>()
  private readonly unpricedPools = new Set<string>()
  private exact = 0n
  private exactInfrastructure = 0n
  constructor(
    private readonly prices: PriceList,
    currency: string = prices.currency,
  ) {
    this.f = {
      currency,
      totalCents: 0,
      infrastructureCents: 0,
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
    // Handler time is whole milliseconds (a sum of them); a fraction would be a producer's.
    const exact = BigInt(Math.round(Number(r.ms))) * exactPrice(price?.perWorkerSecond ?? 0) * 1000n
    this.exact += exact
    this.exactInfrastructure += exact
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
    const exact = price ? exactTokenCost(price, r) : 0n
    this.exact += exact
    // Display figures in units; the exact sum is what becomes totalCents.
    const amount = Number(exact) / 1e21
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
    f.totalCents = toCents(this.exact)
    f.infrastructureCents = toCents(this.exactInfrastructure)
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
