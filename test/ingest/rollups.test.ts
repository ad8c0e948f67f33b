// The materialized-view rollups hold exactly the aggregates of the raw events they summarise
// (also when batches were re-sent), and raw retention follows ingest.rawTtlDays.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type ClickHouseHandle, chQuery } from '../../src/db/clickhouse.ts'
import { migrate } from '../../src/db/migrate.ts'
import type { Pool } from '../../src/db/postgres.ts'
import { ingestConfigSchema } from '../../src/ingest/config.ts'
import { appendEvents, OutboxRelay } from '../../src/ingest/index.ts'
import { applyRawTtl } from '../../src/ingest/ttl.ts'
import { createTestPool, openTestClickHouse, quietLog } from '../helpers/db.ts'
import { faultyClickHouse, uniqueCustomer, workload } from './support.ts'

let pool: Pool
let ch: ClickHouseHandle
const customer = uniqueCustomer('rollup')

beforeAll(async () => {
  ;({ pool } = await createTestPool())
  ch = await openTestClickHouse()
  await migrate({ pool, clickhouse: ch.client, log: quietLog })
  // 900 events over ~2 hours, shipped in batches of 100; every third insert's acknowledgement is
  // lost, so those batches go twice (the copies must not reach the rollups).
  await appendEvents(pool, workload(customer, 900, Date.now() - 2 * 3_600_000))
  const relay = new OutboxRelay({
    pool,
    clickhouse: faultyClickHouse(ch.client, { from: 1, to: 4, mode: 'after' }),
    config: { ...ingestConfigSchema.parse({}).relay, batchSize: 100 },
    log: quietLog,
    instanceId: 'rollup-test',
  })
  for (;;) {
    try {
      if ((await relay.drain()) === 0) break
    } catch {
      // acknowledgement lost: drain again re-sends the same batch
    }
  }
})
afterAll(async () => {
  await pool?.end()
  await ch?.close()
})

const q = <T>(sql: string) => chQuery<T>(ch.client, sql, { c: customer })

describe('rollups', () => {
  it('runs_1h equals run counts and durations from raw events', async () => {
    const raw =
      await q(`SELECT toStartOfHour(ts) AS h, project_id, run_type, action, error_class, count() AS n, sum(duration_ms) AS d
      FROM events FINAL WHERE customer_id = {c:String} AND type = 'run' GROUP BY ALL ORDER BY ALL`)
    const rolled =
      await q(`SELECT hour AS h, project_id, run_type, action, error_class, sum(runs) AS n, sum(duration_ms_sum) AS d
      FROM runs_1h WHERE customer_id = {c:String} GROUP BY ALL ORDER BY ALL`)
    expect(raw.length).toBeGreaterThan(4)
    expect(rolled).toEqual(raw)
    const [p] = await q<{ p50: number }>(
      `SELECT quantilesMerge(0.5, 0.95, 0.99)(duration_ms_q)[1] AS p50 FROM runs_1h WHERE customer_id = {c:String}`,
    )
    const [rp] = await q<{ p50: number }>(
      `SELECT quantile(0.5)(duration_ms) AS p50 FROM events FINAL WHERE customer_id = {c:String} AND type = 'run'`,
    )
    expect(Math.abs(p!.p50 - rp!.p50)).toBeLessThan(rp!.p50 * 0.05)
  })

  it('jobs_1h equals job counts and worker time by pool and kind', async () => {
    const raw =
      await q(`SELECT toStartOfHour(ts) AS h, pool, kind, action, count() AS n, sum(duration_ms) AS ms
      FROM events FINAL WHERE customer_id = {c:String} AND type = 'job' GROUP BY ALL ORDER BY ALL`)
    const rolled = await q(`SELECT hour AS h, pool, kind, action, sum(jobs) AS n, sum(worker_ms) AS ms
      FROM jobs_1h WHERE customer_id = {c:String} GROUP BY ALL ORDER BY ALL`)
    expect(rolled).toEqual(raw)
  })

  it('usage_1h equals token sums by model', async () => {
    const raw =
      await q(`SELECT toStartOfHour(ts) AS h, model, count() AS n, sum(input_tokens) AS i, sum(output_tokens) AS o
      FROM events FINAL WHERE customer_id = {c:String} AND type = 'usage' GROUP BY ALL ORDER BY ALL`)
    const rolled =
      await q(`SELECT hour AS h, model, sum(events) AS n, sum(input_tokens) AS i, sum(output_tokens) AS o
      FROM usage_1h WHERE customer_id = {c:String} GROUP BY ALL ORDER BY ALL`)
    expect(rolled).toEqual(raw)
  })

  it('api_1m equals requests by route and status class', async () => {
    const raw =
      await q(`SELECT toStartOfMinute(ts) AS m, route, concat(toString(intDiv(status_code, 100)), 'xx') AS s, count() AS n, sum(duration_ms) AS d
      FROM events FINAL WHERE customer_id = {c:String} AND type = 'api_request' GROUP BY ALL ORDER BY ALL`)
    const rolled =
      await q(`SELECT minute AS m, route, status_class AS s, sum(requests) AS n, sum(duration_ms_sum) AS d
      FROM api_1m WHERE customer_id = {c:String} GROUP BY ALL ORDER BY ALL`)
    expect(rolled).toEqual(raw)
  })

  it('signals_1m equals healthy and unhealthy heartbeats and probes per minute', async () => {
    const raw =
      await q(`SELECT toStartOfMinute(ts) AS m, type AS source, countIf(ok = 1) AS up, countIf(ok = 0) AS down
      FROM events FINAL WHERE customer_id = {c:String} AND type IN ('heartbeat', 'probe') GROUP BY ALL ORDER BY ALL`)
    const rolled = await q(`SELECT minute AS m, source, sum(healthy) AS up, sum(unhealthy) AS down
      FROM signals_1m WHERE customer_id = {c:String} GROUP BY ALL ORDER BY ALL`)
    expect(rolled).toEqual(raw)
  })

  it('raw events hold each event once even without FINAL', async () => {
    const [r] = await q<{ n: number; u: number }>(
      `SELECT count() AS n, uniqExact(event_id) AS u FROM events WHERE customer_id = {c:String}`,
    )
    expect(r).toEqual({ n: 900, u: 900 })
  })
})

describe('raw retention', () => {
  it('applies, changes and removes the TTL of raw events', async () => {
    const ddl = async () =>
      (
        await q<{ s: string }>(
          `SELECT create_table_query AS s FROM system.tables WHERE database = currentDatabase() AND name = 'events'`,
        )
      )[0]!.s
    await applyRawTtl(ch.client, 30, quietLog)
    expect(await ddl()).toMatch(/TTL .*toIntervalDay\(30\)/)
    await applyRawTtl(ch.client, 90, quietLog)
    expect(await ddl()).toMatch(/TTL .*toIntervalDay\(90\)/)
    await applyRawTtl(ch.client, 0, quietLog)
    expect(await ddl()).not.toMatch(/\bTTL\b/)
  })
})
