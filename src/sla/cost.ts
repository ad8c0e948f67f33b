// Cost of a month per customer: infrastructure (worker-seconds x the pool's price per worker-second)
// plus AI (input and output tokens x the model's price per million), each at the price in effect
// on the UTC day the work happened. Prices change only on day boundaries (config `effectiveFrom`),
// so summing per day and pricing each day is exact, also with a price change mid-month.
// Worker-seconds are the handler time of every job attempt (failed and retried attempts cost too).
import type { ClickHouseClient } from '../db/clickhouse.ts'
import { chQuery } from '../db/clickhouse.ts'
import type { SlaConfig } from './config.ts'
import type { Month } from './months.ts'
import type { FigureSource } from './uptime.ts'

type Prices = SlaConfig['prices']

const WORK_ROLLUP = `
SELECT customer_id AS c, project_id AS p, run_type AS t, pool, toString(toDate(hour)) AS d, sum(worker_ms) AS ms
FROM jobs_1h
WHERE customer_id IN {customers:Array(String)}
  AND hour >= toDateTime({from:UInt32}, 'UTC') AND hour < toDateTime({to:UInt32}, 'UTC')
GROUP BY c, p, t, pool, d HAVING ms > 0`

const WORK_RAW = `
SELECT customer_id AS c, project_id AS p, run_type AS t, pool, toString(toDate(ts, 'UTC')) AS d, sum(duration_ms) AS ms
FROM events FINAL
WHERE customer_id IN {customers:Array(String)} AND type = 'job'
  AND ts >= toDateTime64({from:UInt32}, 3, 'UTC') AND ts < toDateTime64({to:UInt32}, 3, 'UTC')
GROUP BY c, p, t, pool, d HAVING ms > 0`

const TOKENS_ROLLUP = `
SELECT customer_id AS c, project_id AS p, run_type AS t, model, toString(toDate(hour)) AS d,
       sum(input_tokens) AS i, sum(output_tokens) AS o
FROM usage_1h
WHERE customer_id IN {customers:Array(String)}
  AND hour >= toDateTime({from:UInt32}, 'UTC') AND hour < toDateTime({to:UInt32}, 'UTC')
GROUP BY c, p, t, model, d`

const TOKENS_RAW = `
SELECT customer_id AS c, project_id AS p, run_type AS t, model, toString(toDate(ts, 'UTC')) AS d,
       sum(input_tokens) AS i, sum(output_tokens) AS o
FROM events FINAL
WHERE customer_id IN {customers:Array(String)} AND type = 'usage'
  AND ts >= toDateTime64({from:UInt32}, 3, 'UTC') AND ts < toDateTime64({to:UInt32}, 3, 'UTC')
GROUP BY c, p, t, model, d`

const RUN_WORK = `
SELECT pool, toString(toDate(ts, 'UTC')) AS d, sum(duration_ms) AS ms
FROM events FINAL WHERE type = 'job' AND run_id = {runId:String} GROUP BY pool, d`

const RUN_TOKENS = `
SELECT model, toString(toDate(ts, 'UTC')) AS d, sum(input_tokens) AS i, sum(output_tokens) AS o
FROM events FINAL WHERE type = 'usage' AND run_id = {runId:String} GROUP BY model, d`

/** The entry of `key` in effect on `day` (the latest effectiveFrom at or before it). */
function priceOn<T extends { effectiveFrom: string }>(
  list: T[],
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

export interface CostFigures {
  currency: string
  total: number
  infrastructure: number
  ai: number
  workerSeconds: number
  inputTokens: number
  outputTokens: number
  byProject: Record<string, number>
  byRunType: Record<string, number>
  byModel: Record<string, { inputTokens: number; outputTokens: number; cost: number }>
  byPool: Record<string, { workerSeconds: number; cost: number }>
  daily: { day: string; cost: number }[]
  /** Work priced at 0 because no price was configured for it on that day. */
  unpriced: { models: string[]; pools: string[] }
}

function emptyCost(currency: string): CostFigures {
  return {
    currency,
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

interface WorkRow {
  c?: string
  p?: string
  t?: string
  pool: string
  d: string
  ms: number
}
interface TokenRow {
  c?: string
  p?: string
  t?: string
  model: string
  d: string
  i: number
  o: number
}

class CostAccumulator {
  readonly f: CostFigures
  private days = new Map<string, number>()
  private unpricedModels = new Set<string>()
  private unpricedPools = new Set<string>()
  constructor(
    private prices: Prices,
    currency: string,
  ) {
    this.f = emptyCost(currency)
  }
  private add(kind: 'infrastructure' | 'ai', amount: number, day: string, p = '', t = '') {
    this.f[kind] += amount
    this.f.total += amount
    this.f.byProject[p] = (this.f.byProject[p] ?? 0) + amount
    this.f.byRunType[t] = (this.f.byRunType[t] ?? 0) + amount
    this.days.set(day, (this.days.get(day) ?? 0) + amount)
  }
  work(r: WorkRow) {
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
  tokens(r: TokenRow) {
    const i = Number(r.i)
    const o = Number(r.o)
    const price = priceOn(this.prices.models, (x) => x.model === r.model, r.d)
    if (!price) this.unpricedModels.add(r.model)
    const amount = (i * (price?.inputPerMillion ?? 0) + o * (price?.outputPerMillion ?? 0)) / 1e6
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

export async function loadCostFigures(
  ch: ClickHouseClient,
  prices: Prices,
  currencyOf: (customerId: string) => string,
  month: Month,
  until: Date,
  customerIds: string[],
  source: FigureSource = 'rollup',
): Promise<Map<string, CostFigures>> {
  if (!customerIds.length) return new Map()
  const params = {
    from: month.start.getTime() / 1000,
    to: Math.floor(Math.min(month.end.getTime(), until.getTime()) / 1000),
    customers: customerIds,
  }
  const [work, tokens] = await Promise.all([
    chQuery<WorkRow>(ch, source === 'rollup' ? WORK_ROLLUP : WORK_RAW, params),
    chQuery<TokenRow>(ch, source === 'rollup' ? TOKENS_ROLLUP : TOKENS_RAW, params),
  ])
  const acc = new Map(customerIds.map((id) => [id, new CostAccumulator(prices, currencyOf(id))]))
  for (const r of work) acc.get(r.c!)?.work(r)
  for (const r of tokens) acc.get(r.c!)?.tokens(r)
  return new Map([...acc].map(([id, a]) => [id, a.done()]))
}

/** The cost of one run (raw events: every attempt of its jobs and every usage report). */
/** Prices one run's work and tokens (each row dated by its UTC day `d`). */
export function priceUsage(
  prices: Prices,
  work: { pool: string; d: string; ms: number }[],
  tokens: { model: string; d: string; i: number; o: number }[],
): CostFigures {
  const acc = new CostAccumulator(prices, prices.currency)
  for (const r of work) acc.work(r)
  for (const r of tokens) acc.tokens(r)
  return acc.done()
}

export async function loadRunCost(
  ch: ClickHouseClient,
  prices: Prices,
  currency: string,
  runId: string,
): Promise<CostFigures> {
  const [work, tokens] = await Promise.all([
    chQuery<WorkRow>(ch, RUN_WORK, { runId }),
    chQuery<TokenRow>(ch, RUN_TOKENS, { runId }),
  ])
  return priceUsage({ ...prices, currency }, work, tokens)
}
