// Copies the price list (config `prices`) into ClickHouse `prices` (schemas/clickhouse/030_prices.sql,
// 061_usage_tokens.sql),
// so the cost dashboard prices usage in SQL exactly as `priceUsage` does in TypeScript: a price
// applies from its effective day (UTC) to the next entry.
//
// Guarantee: the table never lacks a configured price. The new list is inserted first (later
// updated_at wins under FINAL), then rows of older syncs are deleted, which also drops entries
// removed from the config. Two instances syncing the same config converge on the same rows.
import type { ClickHouseClient } from '../db/clickhouse.ts'
import { chTime } from '../ingest/index.ts'
import type { PriceList } from './schema.ts'

export interface PriceRow {
  kind: 'model' | 'pool'
  name: string
  effective_from: string
  input_per_million: number
  output_per_million: number
  /** Resolved: the input price when the model has no cache price, the output price when no reasoning price. */
  cache_read_per_million: number
  cache_write_per_million: number
  reasoning_per_million: number
  per_worker_second: number
  currency: string
  updated_at: string
}

/** 'YYYY-MM-DD' (a UTC day) → ClickHouse DateTime text at its midnight. */
const dayStart = (day: string) => `${day.slice(0, 10)} 00:00:00`

export function priceRows(prices: PriceList, at: Date): PriceRow[] {
  const base = { currency: prices.currency, updated_at: chTime(at.toISOString()) }
  return [
    ...prices.models.map((m) => ({
      ...base,
      kind: 'model' as const,
      name: m.model,
      effective_from: dayStart(m.effectiveFrom),
      input_per_million: m.inputPerMillion,
      output_per_million: m.outputPerMillion,
      cache_read_per_million: m.cacheReadPerMillion ?? m.inputPerMillion,
      cache_write_per_million: m.cacheWritePerMillion ?? m.inputPerMillion,
      reasoning_per_million: m.reasoningPerMillion ?? m.outputPerMillion,
      per_worker_second: 0,
    })),
    ...prices.pools.map((p) => ({
      ...base,
      kind: 'pool' as const,
      name: p.pool,
      effective_from: dayStart(p.effectiveFrom),
      input_per_million: 0,
      output_per_million: 0,
      cache_read_per_million: 0,
      cache_write_per_million: 0,
      reasoning_per_million: 0,
      per_worker_second: p.perWorkerSecond,
    })),
  ]
}

/** Replaces the ClickHouse price list with `prices` (call at start and when the config changes). */
export async function syncPrices(ch: ClickHouseClient, prices: PriceList, at = new Date()): Promise<number> {
  const rows = priceRows(prices, at)
  if (rows.length) await ch.insert({ table: 'prices', values: rows, format: 'JSONEachRow' })
  await ch.command({
    query: "DELETE FROM prices WHERE updated_at < {at:DateTime64(3, 'UTC')}",
    query_params: { at: chTime(at.toISOString()) },
  })
  return rows.length
}
