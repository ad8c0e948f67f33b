// POST /v1/events — what works: batches in every accepted form become durable, reach ClickHouse
// once, and re-sends are acknowledged without double-counting.
import { gzipSync } from 'node:zlib'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { chQuery } from '../../src/db/clickhouse.ts'
import { GroupCommitter } from '../../src/ingest/group-commit.ts'
import type { IngestModule } from '../../src/ingest/index.ts'
import { TelemetryEvent } from '../../src/ingest/index.ts'
import { eventItem } from '../../src/ingest/outbox.ts'
import { startTestSteward, type TestSteward } from '../helpers/app.ts'
import {
  eventually,
  evidence,
  ingestConfig,
  postEvents,
  storedIds,
  uniqueCustomer,
  workload,
} from './support.ts'

let t: TestSteward
const ingest = () => t.modules.find((m) => m.name === 'ingest') as IngestModule

beforeAll(async () => {
  t = await startTestSteward({
    file: {
      ingest: ingestConfig({
        relay: { maxBatchAgeMs: 50, pollIntervalMs: 50 },
        http: { maxConcurrentRequests: 64 },
      }),
    },
  })
})
afterAll(async () => {
  await t?.stop()
})

const chCount = async (ids: string[]) =>
  (
    await chQuery<{ n: number }>(
      t.deps.clickhouse!,
      'SELECT count() AS n FROM events WHERE event_id IN {ids:Array(String)}',
      { ids },
    )
  )[0]!.n

describe('POST /v1/events', () => {
  it('accepts a JSON array: 202 once durable, then the relay ships it to ClickHouse', async () => {
    const events = workload(uniqueCustomer('arr'), 30)
    const ids = events.map((e) => e.eventId!)
    // Through the test client: the answer is also held to /openapi.json.
    const res = await t.api('POST', '/v1/events', events)
    expect(res.status).toBe(202)
    expect(await res.json()).toEqual({ accepted: 30, duplicates: 0 })
    expect(await storedIds(t.deps.pool, ids)).toBe(30)
    await eventually(
      () => chCount(ids),
      (n) => n === 30,
    )
  })

  it('accepts gzip-compressed NDJSON', async () => {
    const events = workload(uniqueCustomer('ndjson'), 12)
    const body = gzipSync(`${events.map((e) => JSON.stringify(e)).join('\n')}\n`)
    const res = await postEvents(t, body, {
      headers: { 'content-type': 'application/x-ndjson', 'content-encoding': 'gzip' },
    })
    expect(res.status).toBe(202)
    expect(await res.json()).toEqual({ accepted: 12, duplicates: 0 })
    await eventually(
      () => chCount(events.map((e) => e.eventId!)),
      (n) => n === 12,
    )
  })

  it('accepts a single event object, and NDJSON sent without an NDJSON content type', async () => {
    const [one, ...rest] = workload(uniqueCustomer('plain'), 4)
    const single = await postEvents(t, JSON.stringify(one))
    expect(single.status).toBe(202)
    expect(await single.json()).toEqual({ accepted: 1, duplicates: 0 })
    const lines = await postEvents(t, rest.map((e) => JSON.stringify(e)).join('\n'))
    expect(await lines.json()).toEqual({ accepted: 3, duplicates: 0 })
    expect(
      await storedIds(
        t.deps.pool,
        [one!, ...rest].map((e) => e.eventId!),
      ),
    ).toBe(4)
  })

  it('acknowledges a re-sent batch again but stores and counts it once', async () => {
    const customer = uniqueCustomer('resend')
    const events = workload(customer, 18)
    const body = JSON.stringify(events)
    expect((await postEvents(t, body)).status).toBe(202)
    const again = await postEvents(t, body)
    expect(again.status).toBe(202)
    expect(await again.json()).toEqual({ accepted: 18, duplicates: 18 })
    await eventually(
      () => chCount(events.map((e) => e.eventId!)),
      (n) => n === 18,
    )
    await new Promise((r) => setTimeout(r, 200)) // a second copy would have shipped by now
    expect(await chCount(events.map((e) => e.eventId!))).toBe(18)
    const [runs] = await chQuery<{ n: number }>(
      t.deps.clickhouse!,
      'SELECT sum(runs) AS n FROM runs_1h WHERE customer_id = {c:String}',
      { c: customer },
    )
    expect(runs!.n).toBe(3)
  })

  it('lets concurrent requests share PostgreSQL writes (group commit)', async () => {
    const before = ingest().committer.writes
    const batches = Array.from({ length: 20 }, () => workload(uniqueCustomer('group'), 5))
    const responses = await Promise.all(batches.map((b) => postEvents(t, JSON.stringify(b))))
    expect(responses.map((r) => r.status)).toEqual(batches.map(() => 202))
    expect(
      await storedIds(
        t.deps.pool,
        batches.flat().map((e) => e.eventId!),
      ),
    ).toBe(100)
    expect(ingest().committer.writes - before).toBeLessThan(20)
  })

  it('gives a customer token’s events its own customer when they name none', async () => {
    const customer = uniqueCustomer('own')
    expect((await t.api('POST', '/v1/customers', { id: customer, name: 'Own Co' })).status).toBe(201)
    const { token } = (await (await t.api('POST', `/v1/customers/${customer}/tokens`, {})).json()) as {
      token: string
    }
    const { customerId: _, ...event } = evidence('x', 1)[0]!
    const res = await postEvents(t, JSON.stringify([event]), { token })
    expect(res.status).toBe(202)
    await eventually(
      async () =>
        (
          await chQuery<{ c: string }>(
            t.deps.clickhouse!,
            'SELECT customer_id AS c FROM events WHERE event_id = {id:String}',
            { id: event.eventId! },
          )
        )[0]?.c,
      (c) => c === customer,
    )
  })

  it('writes this instance’s control-plane heartbeat, which reaches ClickHouse', async () => {
    const rows = await eventually(
      () =>
        chQuery<{ healthy: number }>(
          t.deps.clickhouse!,
          `SELECT ok AS healthy FROM events WHERE type = 'heartbeat' AND component = 'control_plane' AND instance_id = {i:String}`,
          { i: t.deps.instanceId },
        ),
      (r) => r.length >= 1,
    )
    expect(rows[0]!.healthy).toBe(1)
  })

  it('reports outbox lag on /readyz and /metrics', async () => {
    const ready = (await (await t.api('GET', '/readyz')).json()) as { ingest: Record<string, unknown> }
    expect(ready.ingest).toMatchObject({
      outboxBacklog: expect.any(Number),
      outboxOldestAgeSeconds: expect.any(Number),
    })
    expect(ready.ingest.relay).toMatchObject({ state: expect.any(String), consecutiveFailures: 0 })
    const metrics = await (await t.api('GET', '/metrics')).text()
    for (const name of [
      'steward_outbox_backlog',
      'steward_outbox_oldest_age_seconds',
      'steward_relay_shipped_total',
      'steward_ingest_events_total{outcome="accepted"}',
    ]) {
      expect(metrics).toContain(name)
    }
  })
})

describe('back-pressure', () => {
  it('refuses (429) new events beyond the pending bound instead of queueing them', async () => {
    const committer = new GroupCommitter(t.deps.pool, 10)
    const batch = () => workload(uniqueCustomer('sat'), 8).map((e) => eventItem(TelemetryEvent.parse(e)))
    const first = committer.submit(batch(), 'operator')
    await expect(committer.submit(batch(), 'operator')).rejects.toMatchObject({
      code: 'rate_limited',
      retryAfterSeconds: 1,
    })
    await expect(first).resolves.toEqual({ appended: 8, duplicates: 0 })
  })

  it('answers 503 with Retry-After while the outbox is past its bound, storing nothing', async () => {
    const held = await startTestSteward({
      file: {
        ingest: ingestConfig({ relay: { enabled: false }, heartbeatIntervalMs: 0, http: { maxBacklog: 5 } }),
      },
    })
    try {
      expect((await postEvents(held, JSON.stringify(workload(uniqueCustomer('bl'), 5)))).status).toBe(202)
      await new Promise((r) => setTimeout(r, 1_100)) // the route re-measures the backlog each second
      const events = workload(uniqueCustomer('bl'), 3)
      const res = await postEvents(held, JSON.stringify(events))
      expect(res.status).toBe(503)
      expect(res.headers.get('retry-after')).toBe('30')
      expect(
        await storedIds(
          held.deps.pool,
          events.map((e) => e.eventId!),
        ),
      ).toBe(0)
    } finally {
      await held.stop()
    }
  })
})

describe('the API description', () => {
  it('documents POST /v1/events in /openapi.json', async () => {
    const doc = (await (await t.api('GET', '/openapi.json')).json()) as {
      paths: Record<string, Record<string, { responses: Record<string, unknown> }>>
    }
    const op = doc.paths['/v1/events']?.post
    expect(op).toBeDefined()
    expect(Object.keys(op!.responses)).toEqual(
      expect.arrayContaining(['202', '400', '403', '413', '429', '503']),
    )
  })
})
