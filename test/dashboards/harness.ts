// Test harness for dashboard queries: this process's chDB with every ClickHouse migration applied
// (the .sql files, in order), seeded with the known workload through the real `events` table so
// the materialized views fill the rollups; and a runner that expands a panel's SQL like the plugin.

import { join } from 'node:path'
import type { ClickHouseClient } from '../../src/db/clickhouse.ts'
import { loadMigrations, schemasDir, splitStatements } from '../../src/db/migrate.ts'
import { TelemetryEvent, toRow } from '../../src/ingest/index.ts'
import { syncPrices } from '../../src/pricing/index.ts'
import { openTestClickHouse } from '../helpers/db.ts'
import { ALL, type ExpandContext, expandClickHouseSql } from './expand.ts'
import { COST_ROWS, EVENTS, FROM, PRICES, SLA_ROWS, TO } from './workload.ts'

/** This process's chDB with every ClickHouse migration (the .sql files in order) and the workload. */
export async function openSeededClickHouse(): Promise<{ client: ClickHouseClient; close(): Promise<void> }> {
  const handle = await openTestClickHouse()
  for (const m of await loadMigrations(join(schemasDir, 'clickhouse')))
    for (const statement of splitStatements(m.sql)) await handle.client.command({ query: statement })
  await seedWorkload(handle.client)
  return { client: handle.client, close: () => handle.close() }
}

/** Inserts the workload's events (through `events`, so the views fill the rollups), prices, SLA and profitability rows. */
export async function seedWorkload(client: ClickHouseClient): Promise<void> {
  const rows = EVENTS.map((e) => toRow(TelemetryEvent.parse(e)))
  // The relay always sends a deduplication token (the rollups rely on it, see 011_rollup_dedup.sql).
  for (let i = 0; i < rows.length; i += 1000) {
    await client.insert({
      table: 'events',
      values: rows.slice(i, i + 1000),
      format: 'JSONEachRow',
      clickhouse_settings: { insert_deduplication_token: `dashboards-seed-${i}` },
    })
  }
  // An older price list replaced by the current one: its entries (changed or since removed) must not count.
  const stale = {
    ...PRICES,
    pools: [
      ...PRICES.pools.map((p) => ({ ...p, perWorkerSecond: 99 })),
      { pool: 'gpu', effectiveFrom: '2026-02-15', perWorkerSecond: 99 },
    ],
  }
  await syncPrices(client, stale, new Date('2026-01-01T00:00:00Z'))
  await syncPrices(client, PRICES, new Date('2026-02-01T00:00:00Z'))
  await client.insert({ table: 'sla_monthly', values: SLA_ROWS, format: 'JSONEachRow' })
  // One insert per version: a later write replacing an earlier one, as the refresh job does.
  for (const v of new Set(COST_ROWS.map((r) => r.version)))
    await client.insert({
      table: 'cost_monthly',
      values: COST_ROWS.filter((r) => r.version === v),
      format: 'JSONEachRow',
    })
}

/** Every standard variable at "All", the SLA targets at their defaults. */
export const ALL_VARIABLES: ExpandContext['variables'] = {
  customer: ALL,
  project: ALL,
  run_type: ALL,
  pool: ALL,
  success_target: '99',
  uptime_target: '99.9',
}

export const HOUR = 3600

export interface PanelResult {
  columns: string[]
  rows: Record<string, unknown>[]
}

/** Runs a panel's SQL for the workload's range (or `ctx` overrides) as Grafana would send it. */
export async function runPanelSql(
  client: ClickHouseClient,
  sql: string,
  ctx: Partial<ExpandContext> = {},
): Promise<PanelResult> {
  const query = expandClickHouseSql(sql, {
    from: FROM,
    to: TO,
    intervalSeconds: HOUR,
    ...ctx,
    variables: { ...ALL_VARIABLES, ...ctx.variables },
  })
  const rs = await client.query({ query, format: 'JSON' })
  const body = await rs.json<Record<string, unknown>>()
  return { columns: (body.meta ?? []).map((m) => m.name), rows: body.data }
}
