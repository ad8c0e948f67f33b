// Applies ingest.rawTtlDays to the raw `events` table at start-up (rollups are never expired).
// ClickHouse DDL takes no parameters: the value is a validated integer, and the statement runs
// only when the table's TTL differs from the configured one.
import type { ClickHouseClient } from '../db/clickhouse.ts'
import { chQuery } from '../db/clickhouse.ts'
import type { Logger } from '../log.ts'

export async function applyRawTtl(ch: ClickHouseClient, days: number, log: Logger): Promise<void> {
  if (!Number.isInteger(days) || days < 0)
    throw new Error(`rawTtlDays must be a whole number >= 0, got ${days}`)
  const [table] = await chQuery<{ q: string }>(
    ch,
    `SELECT create_table_query AS q FROM system.tables WHERE database = currentDatabase() AND name = 'events'`,
  )
  if (!table) return
  const current = /\bTTL\b.*toIntervalDay\((\d+)\)/.exec(table.q)?.[1]
  const hasTtl = /\bTTL\b/.test(table.q)
  if (days === 0) {
    if (!hasTtl) return
    await ch.command({ query: 'ALTER TABLE events REMOVE TTL' })
  } else {
    if (current === String(days)) return
    await ch.command({ query: `ALTER TABLE events MODIFY TTL toDateTime(ts) + toIntervalDay(${days})` })
  }
  log.info('raw telemetry retention changed', { rawTtlDays: days || 'forever' })
}
