// Pricing usage: worker-seconds x the pool's price per worker-second, plus input and output tokens
// x the model's price per million, each at the price in effect on the UTC day the work happened.
// Prices change only on day boundaries (`effectiveFrom`), so summing per day and pricing each day
// is exact, also with a price change mid-month. Work with no price that day is priced at 0 and
// named in `unpriced`, never guessed.
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

/** A priced set of usage: one run's, or one customer-month's (docs/sla.md, "Cost"). */
export const CostFigures = z
  .object({
    currency: z.string(),
    /** The total in cents: the exact sum of every priced line, rounded half up once. */
    totalCents: z.number().int(),
    /** The total in units, to 6 decimals (display; `totalCents` is what is billed and reported). */
    total: z.number(),
    infrastructure: z.number(),
    ai: z.number(),
    workerSeconds: z.number(),
    inputTokens: z.number().int(),
    outputTokens: z.number().int(),
    byProject: z.record(z.string(), z.number()),
    byRunType: z.record(z.string(), z.number()),
    byModel: z.record(
      z.string(),
      z.object({ inputTokens: z.number().int(), outputTokens: z.number().int(), cost: z.number() }),
    ),
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

/** Tokens of one model on one UTC day `d`: `i` input, `o` output. */
export interface TokenUsage {
  model: string
  d: string
  i: number
  o: number
  p?: string
  t?: string
}

/** Adds up priced usage rows into CostFigures (rounded to 6 decimals once, at the end). */
export class CostAccumulator {
  private readonly f: CostFigures
  private readonly days = new Map<string, number>()
  private readonly unpricedModels = new Set<string>()
  private readonly unpricedPools = new Set<string>()
  private exact = 0n
  constructor(
    private readonly prices: PriceList,
    currency: string = prices.currency,
  ) {
    this.f = {
      currency,
      totalCents: 0,
      total: 0,
      infrastructure: 0,
      ai: 0,
      workerSeconds: 0,
      inputTokens: 0,
      outputTokens: 0,
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
    this.exact += BigInt(Math.round(Number(r.ms))) * exactPrice(price?.perWorkerSecond ?? 0) * 1000n
    this.f.workerSeconds += seconds
    this.f.byPool[r.pool] ??= { workerSeconds: 0, cost: 0 }
    const pool = this.f.byPool[r.pool]!
    pool.workerSeconds += seconds
    pool.cost += amount
    this.add('infrastructure', amount, r.d, r.p, r.t)
  }
  tokens(r: TokenUsage): void {
    const i = Number(r.i)
    const o = Number(r.o)
    const price = priceOn(this.prices.models, (x) => x.model === r.model, r.d)
    if (!price) this.unpricedModels.add(r.model)
    const amount = (i * (price?.inputPerMillion ?? 0) + o * (price?.outputPerMillion ?? 0)) / 1e6
    this.exact +=
      BigInt(i) * exactPrice(price?.inputPerMillion ?? 0) +
      BigInt(o) * exactPrice(price?.outputPerMillion ?? 0)
    this.f.inputTokens += i
    this.f.outputTokens += o
    this.f.byModel[r.model] ??= { inputTokens: 0, outputTokens: 0, cost: 0 }
    const model = this.f.byModel[r.model]!
    model.inputTokens += i
    model.outputTokens += o
    model.cost += amount
    this.add('ai', amount, r.d, r.p, r.t)
  }
  done(): CostFigures {
    const f = this.f
    f.totalCents = toCents(this.exact)
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
