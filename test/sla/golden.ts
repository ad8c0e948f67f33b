// Golden telemetry for SLA tests: events written straight into ClickHouse `events` (the
// materialized views fill the rollups), and customers in a fresh PostgreSQL database.
import { randomUUID } from 'node:crypto'
import type { z } from 'zod'
import type { ClickHouseClient } from '../../src/db/clickhouse.ts'
import { migrate } from '../../src/db/migrate.ts'
import type { Pool } from '../../src/db/postgres.ts'
import { type EventSource, TelemetryEvent, type TelemetryEventInput, toRow } from '../../src/ingest/index.ts'
import { type PriceListInput, priceListSchema } from '../../src/pricing/index.ts'
import { slaConfigSchema } from '../../src/sla/config.ts'
import type { SlaContext } from '../../src/sla/index.ts'
import { type Month, parseMonth } from '../../src/sla/months.ts'
import { customerDirectory } from '../../src/tenants/index.ts'
import { createTestPool, openTestClickHouse, quietLog } from '../helpers/db.ts'

/**
 * An event as producers write it, its id optional (distributes over the union of event types), and
 * who sent it (`source`: 'steward' unless given; the operator's admin token is 'operator', a
 * customer's token 'customer').
 */
export type GoldenEvent = TelemetryEventInput extends infer T
  ? T extends unknown
    ? Omit<T, 'eventId'> & { eventId?: string; source?: EventSource }
    : never
  : never

/**
 * Validates each event with the telemetry schema and inserts its `toRow` row. Events that differ
 * only in time are validated once (a month of heartbeats is 43,200 of them).
 */
export async function insertEvents(ch: ClickHouseClient, events: GoldenEvent[]): Promise<void> {
  const parsed = new Map<string, TelemetryEvent>()
  const row = (e: GoldenEvent) => {
    const { ts, eventId, source, ...shape } = e
    const key = JSON.stringify(shape)
    let template = parsed.get(key)
    if (!template) {
      template = TelemetryEvent.parse({ eventId: 'template', ...shape, ts })
      parsed.set(key, template)
    }
    if (Number.isNaN(Date.parse(ts))) throw new Error(`bad ts ${ts}`)
    return toRow({ ...template, eventId: eventId ?? randomUUID(), ts }, source ?? 'steward')
  }
  for (let i = 0; i < events.length; i += 50_000) {
    const values = events.slice(i, i + 50_000).map(row)
    // Every insert into `events` carries a deduplication token (schemas/clickhouse/011_rollup_dedup.sql):
    // without one, chDB dropped a later small insert as if it were a retry.
    await ch.insert({
      table: 'events',
      values,
      format: 'JSONEachRow',
      clickhouse_settings: {
        insert_deduplicate: 1,
        insert_deduplication_token: randomUUID(),
        deduplicate_blocks_in_dependent_materialized_views: 1,
      },
    })
  }
}

/** One healthy control-plane heartbeat per minute of `month`, except the minutes in `down`. */
export function heartbeats(month: Month, down: Set<number> = new Set()): GoldenEvent[] {
  const out: GoldenEvent[] = []
  for (let i = 0; i < month.minutes; i++) {
    if (down.has(i)) continue
    out.push({
      type: 'heartbeat',
      ts: new Date(month.start.getTime() + i * 60_000 + 7_000).toISOString(),
      instanceId: 'cp-1',
      component: 'control_plane',
      healthy: true,
    })
  }
  return out
}

/** A succeeded job of `durationMs` handler time in pool `default` (run `r-<jobId>`, project p1, type build). */
export const finishedJob = (
  customerId: string,
  jobId: string,
  ts: string,
  durationMs: number,
): GoldenEvent => ({
  type: 'job',
  customerId,
  projectId: 'p1',
  runId: `r-${jobId}`,
  runType: 'build',
  jobId,
  stepKey: 's',
  kind: 'simulate',
  pool: 'default',
  attempt: 1,
  action: 'succeeded',
  ts,
  durationMs,
})

/** Minute index of an ISO time within its month. */
export const minuteOf = (month: Month, iso: string) => (Date.parse(iso) - month.start.getTime()) / 60_000

export const range = (from: number, count: number) => Array.from({ length: count }, (_, i) => from + i)

export interface SlaTestEnv extends SlaContext {
  close(): Promise<void>
}

/** An SLA context on fresh engines; `prices` (the pricing module's list) may ride along for brevity. */
export async function openSlaEnv(
  settings: z.input<typeof slaConfigSchema> & { prices?: PriceListInput } = {},
): Promise<SlaTestEnv> {
  const { prices, ...sla } = settings
  const { pool } = await createTestPool()
  const handle = await openTestClickHouse()
  await migrate({ pool, clickhouse: handle.client, log: quietLog })
  return {
    pool,
    ch: handle.client,
    config: slaConfigSchema.parse(sla),
    prices: priceListSchema.parse(prices),
    tenants: customerDirectory(pool),
    async close() {
      await pool.end()
      await handle.close()
    },
  }
}

/** Customers created long before the months under test. */
export async function addCustomers(pool: Pool, ids: string[], createdAt = '2020-01-01T00:00:00Z') {
  for (const id of ids) {
    await pool.query('INSERT INTO customers (id, name, created_at) VALUES ($1, $1, $2)', [id, createdAt])
  }
}

/** A span of the witness: instance `instanceId` beat without a gap from `from` to `to`. */
export async function witnessSpan(pool: Pool, from: string, to: string, instanceId = 'cp-1') {
  await pool.query('INSERT INTO sla_witness (instance_id, first_beat, last_beat) VALUES ($1, $2, $3)', [
    instanceId,
    from,
    to,
  ])
}

export { parseMonth }
