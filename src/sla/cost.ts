// Cost of a month per customer, priced by the pricing module (src/pricing): the usage per UTC day,
// project, run type, pool and model, read from ClickHouse (rollups, or raw events to cross-check).
// Worker-seconds are the handler time of every job attempt (failed and retried attempts cost too).
import type { ClickHouseClient } from '../db/clickhouse.ts'
import { chQuery } from '../db/clickhouse.ts'
import {
  CostAccumulator,
  type CostFigures,
  type PriceList,
  type TokenUsage,
  type WorkUsage,
} from '../pricing/index.ts'
import type { Month } from './months.ts'
import type { FigureSource } from './schemas/figures.ts'

const SQL = {
  work: {
    rollup: `
      SELECT customer_id AS c, project_id AS p, run_type AS t, pool, toString(toDate(hour)) AS d, sum(worker_ms) AS ms
      FROM jobs_1h
      WHERE customer_id IN {customers:Array(String)}
        AND hour >= toDateTime({from:UInt32}, 'UTC') AND hour < toDateTime({to:UInt32}, 'UTC')
      GROUP BY c, p, t, pool, d HAVING ms > 0`,
    raw: `
      SELECT customer_id AS c, project_id AS p, run_type AS t, pool, toString(toDate(ts, 'UTC')) AS d, sum(duration_ms) AS ms
      FROM events FINAL
      WHERE customer_id IN {customers:Array(String)} AND type = 'job'
        AND ts >= toDateTime64({from:UInt32}, 3, 'UTC') AND ts < toDateTime64({to:UInt32}, 3, 'UTC')
      GROUP BY c, p, t, pool, d HAVING ms > 0`,
  },
  tokens: {
    rollup: `
      SELECT customer_id AS c, project_id AS p, run_type AS t, model, toString(toDate(hour)) AS d,
             sum(input_tokens) AS i, sum(output_tokens) AS o,
             sum(cache_read_tokens) AS cr, sum(cache_write_tokens) AS cw, sum(reasoning_tokens) AS r
      FROM usage_1h
      WHERE customer_id IN {customers:Array(String)}
        AND hour >= toDateTime({from:UInt32}, 'UTC') AND hour < toDateTime({to:UInt32}, 'UTC')
      GROUP BY c, p, t, model, d`,
    raw: `
      SELECT customer_id AS c, project_id AS p, run_type AS t, model, toString(toDate(ts, 'UTC')) AS d,
             sum(input_tokens) AS i, sum(output_tokens) AS o,
             sum(cache_read_tokens) AS cr, sum(cache_write_tokens) AS cw, sum(reasoning_tokens) AS r
      FROM events FINAL
      WHERE customer_id IN {customers:Array(String)} AND type = 'usage'
        AND ts >= toDateTime64({from:UInt32}, 3, 'UTC') AND ts < toDateTime64({to:UInt32}, 3, 'UTC')
      GROUP BY c, p, t, model, d`,
  },
}

type WorkRow = WorkUsage & { c: string }
type TokenRow = TokenUsage & { c: string }

export async function loadCostFigures(
  ch: ClickHouseClient,
  prices: PriceList,
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
    chQuery<WorkRow>(ch, SQL.work[source], params),
    chQuery<TokenRow>(ch, SQL.tokens[source], params),
  ])
  const acc = new Map(customerIds.map((id) => [id, new CostAccumulator(prices, currencyOf(id))]))
  for (const r of work) acc.get(r.c)?.work(r)
  for (const r of tokens) acc.get(r.c)?.tokens(r)
  return new Map([...acc].map(([id, a]) => [id, a.done()]))
}
