// Retention applied at start-up: ingest.rawTtlDays to the raw `events` table (rollups are never
// expired) and ingest.otlp.ttlDays to the OpenTelemetry tables. ClickHouse DDL takes no
// parameters: the value is a validated integer, and the statement runs only when the table's TTL
// differs from the configured one.
import type { ClickHouseClient } from '../db/clickhouse.ts'
import { chQuery } from '../db/clickhouse.ts'
import type { Logger } from '../log.ts'
import { OTEL_TABLES, type OutboxTarget } from './targets.ts'

/** The time each table expires by (the collector's exporter expires its tables by the same). */
const EXPIRES_BY: Record<OutboxTarget, string> = {
  events: 'toDateTime(ts)',
  otel_traces: 'toDateTime(Timestamp)',
  otel_logs: 'TimestampTime',
  otel_metrics_sum: 'toDateTime(TimeUnix)',
  otel_metrics_gauge: 'toDateTime(TimeUnix)',
  otel_metrics_histogram: 'toDateTime(TimeUnix)',
}

/** Sets `table` to drop rows after `days` days (0: kept forever). */
export async function applyTtl(
  ch: ClickHouseClient,
  table: OutboxTarget,
  days: number,
  log: Logger,
): Promise<void> {
  if (!Number.isInteger(days) || days < 0)
    throw new Error(`a TTL must be a whole number of days >= 0, got ${days}`)
  const [found] = await chQuery<{ q: string }>(
    ch,
    `SELECT create_table_query AS q FROM system.tables WHERE database = currentDatabase() AND name = {table:String}`,
    { table },
  )
  if (!found) return
  const current = /\bTTL\b.*toIntervalDay\((\d+)\)/.exec(found.q)?.[1]
  const hasTtl = /\bTTL\b/.test(found.q)
  if (days === 0) {
    if (!hasTtl) return
    await ch.command({ query: `ALTER TABLE ${table} REMOVE TTL` })
  } else {
    if (current === String(days)) return
    await ch.command({
      query: `ALTER TABLE ${table} MODIFY TTL ${EXPIRES_BY[table]} + toIntervalDay(${days})`,
    })
  }
  log.info('telemetry retention changed', { table, days: days || 'forever' })
}

/** ingest.rawTtlDays on `events`. */
export const applyRawTtl = (ch: ClickHouseClient, days: number, log: Logger) =>
  applyTtl(ch, 'events', days, log)

/** ingest.otlp.ttlDays on every OpenTelemetry table. */
export async function applyOtelTtl(ch: ClickHouseClient, days: number, log: Logger): Promise<void> {
  for (const table of OTEL_TABLES) await applyTtl(ch, table, days, log)
}
