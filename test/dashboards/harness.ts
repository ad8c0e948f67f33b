// Test harness for dashboard queries: this process's chDB with every ClickHouse migration applied
// (the .sql files, in order), seeded with the known workload through the real `events` table so
// the materialized views fill the rollups; and a runner that expands a panel's SQL like the plugin.

import { join } from 'node:path'
import type { ClickHouseClient } from '../../src/db/clickhouse.ts'
import { loadMigrations, schemasDir, splitStatements } from '../../src/db/migrate.ts'
import { chTime, TelemetryEvent, toRow } from '../../src/ingest/index.ts'
import { openTestClickHouse } from '../helpers/db.ts'
import { ALL, type ExpandContext, expandClickHouseSql } from './expand.ts'
import { EVENTS, FROM, MODEL_PRICES, POOL_PRICES, SLA_ROWS, TO } from './workload.ts'

export async function openSeededClickHouse(): Promise<{ client: ClickHouseClient; close(): Promise<void> }> {
  const handle = await openTestClickHouse()
  const client = handle.client
  for (const m of await loadMigrations(join(schemasDir, 'clickhouse')))
    for (const statement of splitStatements(m.sql)) await client.command({ query: statement })
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
  const price = (r: Record<string, unknown>) => ({ currency: 'USD', ...r })
  await client.insert({
    table: 'prices',
    format: 'JSONEachRow',
    values: [
      ...MODEL_PRICES.map((p) =>
        price({
          kind: 'model',
          name: p.name,
          effective_from: chTime(p.from),
          input_per_million: p.input,
          output_per_million: p.output,
        }),
      ),
      // A superseded entry for gpu (older updated_at): FINAL must take the later one.
      price({
        kind: 'pool',
        name: 'gpu',
        effective_from: chTime(POOL_PRICES[1]!.from),
        per_worker_second: 99,
        updated_at: '2026-01-01 00:00:00.000',
      }),
      ...POOL_PRICES.map((p) =>
        price({
          kind: 'pool',
          name: p.name,
          effective_from: chTime(p.from),
          per_worker_second: p.perSecond,
          updated_at: '2026-02-01 00:00:00.000',
        }),
      ),
    ],
  })
  await client.insert({ table: 'sla_monthly', values: SLA_ROWS, format: 'JSONEachRow' })
  return { client, close: () => handle.close() }
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
