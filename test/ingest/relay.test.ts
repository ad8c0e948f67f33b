// The outbox relay against the real PostgreSQL and chDB: every event reaches ClickHouse once.
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { type ClickHouseClient, type ClickHouseHandle, chQuery } from '../../src/db/clickhouse.ts'
import { migrate } from '../../src/db/migrate.ts'
import type { Pool } from '../../src/db/postgres.ts'
import { ingestConfigSchema } from '../../src/ingest/config.ts'
import { startHeartbeats } from '../../src/ingest/heartbeat.ts'
import { appendEvents, OutboxRelay, outboxLag } from '../../src/ingest/index.ts'
import { createTestPool, openTestClickHouse, quietLog } from '../helpers/db.ts'
import { eventually, faultyClickHouse, uniqueCustomer, workload } from './support.ts'

let pool: Pool
let ch: ClickHouseHandle

beforeAll(async () => {
  ;({ pool } = await createTestPool())
  ch = await openTestClickHouse()
  await migrate({ pool, clickhouse: ch.client, log: quietLog })
})
// Each test starts with an empty outbox and leaves no relay running, even when it failed.
const relays: OutboxRelay[] = []
beforeEach(async () => {
  await pool.query(
    'DELETE FROM telemetry_outbox; DELETE FROM telemetry_outbox_batches; DELETE FROM telemetry_outbox_dead',
  )
})
afterEach(async () => {
  await Promise.all(relays.splice(0).map((r) => r.stop()))
})
afterAll(async () => {
  await pool?.end()
  await ch?.close()
})

const relayConfig = (over: Partial<ReturnType<typeof ingestConfigSchema.parse>['relay']> = {}) => ({
  ...ingestConfigSchema.parse({}).relay,
  batchSize: 50,
  maxBatchAgeMs: 20,
  pollIntervalMs: 20,
  backoffMinMs: 20,
  backoffMaxMs: 100,
  ...over,
})

const relay = (client: ClickHouseClient = ch.client, over = {}, instanceId = 'test') => {
  const r = new OutboxRelay({
    pool,
    clickhouse: client,
    config: relayConfig(over),
    log: quietLog,
    instanceId,
  })
  relays.push(r)
  return r
}

/** Rows in `events` (without FINAL: what is physically there, so a double insert shows). */
const rawCount = async (customerId: string) =>
  (
    await chQuery<{ n: number }>(
      ch.client,
      'SELECT count() AS n FROM events WHERE customer_id = {c:String}',
      { c: customerId },
    )
  )[0]!.n

const rollupCounts = async (customerId: string) => {
  const one = async (sql: string) => (await chQuery<{ n: number }>(ch.client, sql, { c: customerId }))[0]!.n
  return {
    runs: await one('SELECT sum(runs) AS n FROM runs_1h WHERE customer_id = {c:String}'),
    jobs: await one('SELECT sum(jobs) AS n FROM jobs_1h WHERE customer_id = {c:String}'),
    usage: await one('SELECT sum(events) AS n FROM usage_1h WHERE customer_id = {c:String}'),
    api: await one('SELECT sum(requests) AS n FROM api_1m WHERE customer_id = {c:String}'),
    signals: await one('SELECT sum(healthy + unhealthy) AS n FROM signals_1m WHERE customer_id = {c:String}'),
  }
}
const expectedRollups = (n: number) => {
  // workload() cycles run, job, usage, api_request, heartbeat, probe.
  const of = (k: number) => Math.floor(n / 6) + (n % 6 > k ? 1 : 0)
  return { runs: of(0), jobs: of(1), usage: of(2), api: of(3), signals: of(4) + of(5) }
}

describe('outbox relay', () => {
  it('ships outbox events to ClickHouse once, with their dimensions, and empties the outbox', async () => {
    const customer = uniqueCustomer('dims')
    const events = workload(customer, 120)
    await appendEvents(pool, events)
    expect((await outboxLag(pool)).backlog).toBe(120)
    expect(await relay().drain()).toBe(120)
    expect((await outboxLag(pool)).backlog).toBe(0)
    expect(await rawCount(customer)).toBe(120)

    const job = events.find((e) => e.type === 'job')!
    const [row] = await chQuery<Record<string, unknown>>(
      ch.client,
      'SELECT * FROM events FINAL WHERE event_id = {id:String}',
      { id: `steward:${job.eventId}` },
    )
    expect(row).toMatchObject({
      type: 'job',
      action: 'succeeded',
      customer_id: customer,
      project_id: 'proj-0',
      run_id: 'run-0',
      run_type: 'build',
      job_id: 'job-0',
      kind: 'simulate',
      pool: 'default',
      attempt: 1,
      duration_ms: 250,
      source: 'steward',
    })
    expect(await rollupCounts(customer)).toEqual(expectedRollups(120))
  })

  it('drops a re-sent eventId, so raw queries and rollups count it once', async () => {
    const customer = uniqueCustomer('dup')
    const events = workload(customer, 60)
    const first = await appendEvents(pool, events)
    expect(first).toMatchObject({ appended: 60, duplicates: 0 })
    await relay().drain()
    // Re-sent after shipping, re-sent while still waiting, and twice within one call.
    const again = await appendEvents(pool, [...events.slice(0, 30), ...events.slice(0, 30)])
    expect(again).toMatchObject({ appended: 0, duplicates: 60 })
    await relay().drain()
    expect(await rawCount(customer)).toBe(60)
    expect(await rollupCounts(customer)).toEqual(expectedRollups(60))
  })

  it('keeps events in the outbox while ClickHouse fails, then ships every one once', async () => {
    const customer = uniqueCustomer('fault')
    // Inserts 1-4 are refused (ClickHouse down); insert 5 lands but its acknowledgement is lost.
    const down = faultyClickHouse(ch.client, { from: 1, to: 5 })
    // Backoffs long enough (doubling from 200 ms) that the checks below run while it waits.
    const r = relay(down, { backoffMinMs: 200, backoffMaxMs: 3_200 })
    r.start()
    await appendEvents(pool, workload(customer, 100))
    await eventually(
      () => Promise.resolve(r.status()),
      (s) => s.consecutiveFailures >= 3 && s.state === 'backing_off',
    )
    const during = await outboxLag(pool)
    expect(during.backlog).toBe(100)
    expect(await rawCount(customer)).toBe(0)
    await eventually(
      () => outboxLag(pool),
      (l) => l.backlog === 0,
    )
    await r.stop()
    expect(await rawCount(customer)).toBe(100)
    expect(await rollupCounts(customer)).toEqual(expectedRollups(100))
  })

  it('keeps backing off when new events nudge it while ClickHouse fails', async () => {
    const down = faultyClickHouse(ch.client, { from: 1, to: 1_000 })
    const r = relay(down, { backoffMinMs: 400, backoffMaxMs: 400 })
    await appendEvents(pool, workload(uniqueCustomer('nudge'), 5))
    r.start()
    await eventually(
      () => Promise.resolve(r.status().state),
      (s) => s === 'backing_off',
    )
    const t0 = performance.now()
    for (let i = 0; i < 20; i++) {
      r.nudge()
      await new Promise((res) => setTimeout(res, 10))
    }
    // Twenty nudges, about 200 ms, inside backoffs of 400 ms: one attempt per backoff that ended,
    // never one per nudge (a loaded machine stretches the loop, so the bound follows the clock).
    const elapsed = performance.now() - t0
    expect(down.inserts).toBeLessThanOrEqual(2 + Math.floor(elapsed / 400))
    expect(down.inserts).toBeLessThan(20)
  })

  it('re-sends a batch whose acknowledgement was lost with the same token: ClickHouse drops the copy', async () => {
    const customer = uniqueCustomer('ack')
    await appendEvents(pool, workload(customer, 40))
    const lost = faultyClickHouse(ch.client, { from: 1, to: 2, mode: 'after' })
    const r = relay(lost)
    await expect(r.shipOnce(true)).rejects.toThrow(/acknowledgement lost/)
    expect(await rawCount(customer)).toBe(40) // landed, yet still in the outbox
    expect((await outboxLag(pool)).backlog).toBe(40)
    expect(await r.shipOnce(true)).toBe(40)
    expect((await outboxLag(pool)).backlog).toBe(0)
    expect(await rawCount(customer)).toBe(40)
    expect(await rollupCounts(customer)).toEqual(expectedRollups(40))
  })

  it('takes over the batch of a relay that died after inserting, without double-counting it', async () => {
    const customer = uniqueCustomer('takeover')
    await appendEvents(pool, workload(customer, 30))
    const dying = relay(faultyClickHouse(ch.client, { from: 1, to: 2, mode: 'after' }), {}, 'dying')
    await expect(dying.shipOnce(true)).rejects.toThrow() // inserted, then "died" before the delete
    // A fresh relay skips a batch whose lease is live, and takes it over once it expired.
    expect(await relay(ch.client, { claimLeaseMs: 60_000 }, 'other').shipOnce(true)).toBe(0)
    await new Promise((r) => setTimeout(r, 30))
    expect(await relay(ch.client, { claimLeaseMs: 20 }, 'other').shipOnce(true)).toBe(30)
    expect((await outboxLag(pool)).backlog).toBe(0)
    expect(await rawCount(customer)).toBe(30)
    expect(await rollupCounts(customer)).toEqual(expectedRollups(30))
  })

  it('runs several relays at once without sending any event twice', async () => {
    const customer = uniqueCustomer('multi')
    await appendEvents(pool, workload(customer, 600))
    const relays = [1, 2, 3].map((i) => relay(ch.client, { batchSize: 40 }, `r${i}`))
    const shipped = await Promise.all(relays.map((r) => r.drain()))
    expect(shipped.reduce((a, b) => a + b, 0)).toBe(600)
    expect(shipped.filter((n) => n > 0).length).toBeGreaterThan(1)
    expect(await rawCount(customer)).toBe(600)
    expect(await rollupCounts(customer)).toEqual(expectedRollups(600))
  })

  it('ships a partial batch once its oldest event reached the age bound', async () => {
    const customer = uniqueCustomer('age')
    const r = relay(ch.client, { batchSize: 1_000, maxBatchAgeMs: 200 })
    await appendEvents(pool, workload(customer, 5))
    expect(await r.shipOnce()).toBe(0) // neither full nor old enough
    await new Promise((res) => setTimeout(res, 250))
    expect(await r.shipOnce()).toBe(5)
  })

  it('ships a backfill batch spanning more months than ClickHouse allows per insert by default', async () => {
    const customer = uniqueCustomer('backfill')
    const start = Date.UTC(2010, 0, 15)
    const events = workload(customer, 150).map((e, i) => ({
      ...e,
      ts: new Date(start + i * 31 * 86_400_000).toISOString(),
    }))
    await appendEvents(pool, events)
    expect(await relay(ch.client, { batchSize: 500 }).drain()).toBe(150)
    expect(await rawCount(customer)).toBe(150)
  })

  it('sets aside an outbox row that is not a valid event instead of blocking the pipeline', async () => {
    const customer = uniqueCustomer('dead')
    await pool.query(
      `INSERT INTO telemetry_outbox (event_id, body) VALUES ('hand-written', '{"type":"run"}')`,
    )
    await appendEvents(pool, workload(customer, 10))
    const r = relay()
    expect(await r.drain()).toBe(11)
    expect(r.status().deadLettered).toBe(1)
    expect(await rawCount(customer)).toBe(10)
    expect((await outboxLag(pool)).backlog).toBe(0)
    const { rows } = await pool.query('SELECT event_id, error FROM telemetry_outbox_dead')
    expect(rows).toEqual([{ event_id: 'hand-written', error: expect.stringMatching(/eventId/) }])
  })
})

/** Writes a row straight into the outbox (bypassing every door): a valid event ClickHouse refuses. */
async function poisonRow(customerId: string, ts = '0000-01-01T00:00:00+01:00') {
  const eventId = `poison-${uniqueCustomer('p')}`
  const body = {
    type: 'probe',
    eventId,
    ts,
    customerId,
    projectId: '',
    target: 'api',
    ok: false,
    latencyMs: 1,
    region: '',
  }
  await pool.query(
    `INSERT INTO telemetry_outbox (event_id, customer_id, source, body) VALUES ($1, $2, 'customer', $3)`,
    [eventId, customerId, JSON.stringify(body)],
  )
  return eventId
}

/** `before` workload events, a poison row, then `after` more: one batch with the poison inside. */
async function batchWithPoison(customer: string, before: number, after: number) {
  const events = workload(customer, before + after)
  await appendEvents(pool, events.slice(0, before))
  const poison = await poisonRow(customer)
  await appendEvents(pool, events.slice(before))
  return poison
}

const deadTable = async () =>
  (
    await pool.query<{ event_id: string; customer_id: string; source: string; error: string }>(
      'SELECT event_id, customer_id, source, error FROM telemetry_outbox_dead ORDER BY seq',
    )
  ).rows

describe('when ClickHouse refuses a row', () => {
  it('bisects the insert: the rest of the batch ships, the refused row is set aside with ClickHouse’s error', async () => {
    const customer = uniqueCustomer('poison')
    const poison = await batchWithPoison(customer, 17, 32)
    const r = relay()
    expect(await r.drain()).toBe(50)
    expect(await rawCount(customer)).toBe(49)
    expect(await rollupCounts(customer)).toEqual(expectedRollups(49))
    expect(await deadTable()).toEqual([
      {
        event_id: poison,
        customer_id: customer,
        source: 'customer',
        error: expect.stringMatching(/^ClickHouse refused the row: CANNOT_PARSE_DATETIME \(41\)/),
      },
    ])
    expect(r.status()).toMatchObject({ deadLettered: 1, shipped: 49, consecutiveFailures: 0 })
    expect((await outboxLag(pool)).backlog).toBe(0)
  })

  it('sends the same halves with the same tokens after a crash mid-bisection: nothing lands twice', async () => {
    const customer = uniqueCustomer('resume')
    await batchWithPoison(customer, 45, 4) // the poison row is the 46th of 50
    // Insert 1 (rows 1-50) and insert 3 (rows 26-50) are refused by ClickHouse for the poison row;
    // insert 2 (rows 1-25) lands; insert 4 (rows 26-38) lands but its acknowledgement is lost: the
    // relay "dies" there.
    const dying = relay(faultyClickHouse(ch.client, { from: 4, to: 5, mode: 'after' }), {}, 'dying')
    await expect(dying.shipOnce(true)).rejects.toThrow(/acknowledgement lost/)
    expect(await rawCount(customer)).toBe(38)
    const { rows } = await pool.query<{ batch: string; split_tokens: string[] }>(
      'SELECT batch, split_tokens FROM telemetry_outbox_batches',
    )
    expect(rows[0]!.split_tokens).toEqual([rows[0]!.batch, `${rows[0]!.batch}/1`])
    // Another relay takes the batch over: it goes straight to the recorded halves.
    await new Promise((res) => setTimeout(res, 30))
    expect(await relay(ch.client, { claimLeaseMs: 20 }, 'other').shipOnce(true)).toBe(50)
    expect(await rawCount(customer)).toBe(49)
    expect(await rollupCounts(customer)).toEqual(expectedRollups(49))
    expect(await deadTable()).toHaveLength(1)
  })

  const passing: [string, Parameters<typeof faultyClickHouse>[1]][] = [
    ['ClickHouse is unreachable (a network error)', { from: 1, to: 1_000 }],
    [
      'ClickHouse refuses for a passing reason (MEMORY_LIMIT_EXCEEDED)',
      { from: 1, to: 1_000, refuse: { type: 'MEMORY_LIMIT_EXCEEDED', code: '241' } },
    ],
    [
      'a server exception comes while ClickHouse does not answer a ping',
      { from: 1, to: 1_000, refuse: { type: 'CANNOT_PARSE_DATETIME', code: '41' }, pingFails: true },
    ],
  ]
  for (const [when, fault] of passing) {
    it(`sets nothing aside and bisects nothing when ${when}; ships everything once it recovers`, async () => {
      const customer = uniqueCustomer('down')
      await appendEvents(pool, workload(customer, 30))
      const down = faultyClickHouse(ch.client, fault)
      const r = relay(down)
      r.start()
      await eventually(
        () => Promise.resolve(r.status()),
        (s) => s.consecutiveFailures >= 3,
      )
      await r.stop()
      // One insert per attempt: the whole batch, never a half.
      expect(down.inserts).toBe(r.status().consecutiveFailures)
      expect(await deadTable()).toEqual([])
      expect((await outboxLag(pool)).backlog).toBe(30)
      const { rows } = await pool.query('SELECT split_tokens FROM telemetry_outbox_batches')
      expect(rows).toEqual([{ split_tokens: [] }])
      expect(await relay(ch.client, { claimLeaseMs: 20 }, 'healed').drain()).toBe(30)
      expect(await rawCount(customer)).toBe(30)
    })
  }

  it('keeps ClickHouse’s partition cap on: a backfill goes as several inserts of at most the cap', async () => {
    const customer = uniqueCustomer('cap')
    const start = Date.UTC(2012, 0, 15)
    await appendEvents(
      pool,
      workload(customer, 45).map((e, i) => ({
        ...e,
        ts: new Date(start + i * 31 * 86_400_000).toISOString(),
      })),
    )
    const counting = faultyClickHouse(ch.client, { from: 0, to: 0 })
    expect(await relay(counting, { batchSize: 500, maxPartitionsPerInsert: 10 }).drain()).toBe(45)
    expect(counting.inserts).toBe(5)
    expect(await rawCount(customer)).toBe(45)
  })
})

describe('control-plane heartbeats', () => {
  const beats = async (instance: string) =>
    (
      await pool.query<{ healthy: boolean; component: string; customer: string }>(
        `SELECT (body->>'healthy')::boolean AS healthy, body->>'component' AS component, customer_id AS customer
         FROM telemetry_outbox WHERE body->>'instanceId' = $1 ORDER BY seq`,
        [instance],
      )
    ).rows

  it('writes one at start and then every interval, unhealthy while ClickHouse does not answer', async () => {
    const up = startHeartbeats({
      pool,
      clickhouse: ch.client,
      instanceId: 'cp-up',
      intervalMs: 100,
      log: quietLog,
    })
    const down = startHeartbeats({
      pool,
      clickhouse: new Proxy(ch.client, {
        get: (target, prop) =>
          prop === 'ping'
            ? async () => ({ success: false, error: new Error('down') })
            : Reflect.get(target, prop),
      }),
      instanceId: 'cp-down',
      intervalMs: 100,
      log: quietLog,
    })
    // Until each has written three (a loaded machine may stretch the 100 ms interval).
    for (let i = 0; i < 200; i++) {
      const [u, d] = await Promise.all([beats('cp-up'), beats('cp-down')])
      if (u.length >= 3 && d.length >= 3) break
      await new Promise((r) => setTimeout(r, 50))
    }
    await Promise.all([up.stop(), down.stop()])
    const ups = await beats('cp-up')
    expect(ups.length).toBeGreaterThanOrEqual(3)
    expect(ups.every((b) => b.healthy && b.component === 'control_plane' && b.customer === '')).toBe(true)
    const downs = await beats('cp-down')
    expect(downs.length).toBeGreaterThanOrEqual(3)
    expect(downs.every((b) => !b.healthy)).toBe(true)
  })
})
