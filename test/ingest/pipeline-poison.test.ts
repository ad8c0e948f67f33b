// One event cannot stall telemetry for everyone (issue 13): a poison timestamp or a NUL byte sent
// through the API is refused at the door while other tenants' events sent at the same time are
// stored and shipped; a poison row that reached the outbox anyway (written past the door) is set
// aside by the relay while the rest of its batch ships, and /readyz and /metrics show it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { chQuery } from '../../src/db/clickhouse.ts'
import { appendEvents, outboxLag } from '../../src/ingest/index.ts'
import { startTestSteward, type TestSteward } from '../helpers/app.ts'
import { eventually, ingestConfig, postEvents, uniqueCustomer, workload } from './support.ts'

let t: TestSteward

beforeAll(async () => {
  t = await startTestSteward({
    file: {
      ingest: ingestConfig({
        heartbeatIntervalMs: 0,
        relay: { maxBatchAgeMs: 50, pollIntervalMs: 50, batchSize: 200 },
      }),
    },
  })
})
afterAll(async () => {
  await t?.stop()
})

const shippedOf = async (customerId: string) =>
  (
    await chQuery<{ n: number }>(
      t.deps.clickhouse!,
      'SELECT count() AS n FROM events WHERE customer_id = {c:String}',
      { c: customerId },
    )
  )[0]!.n

const metric = async (name: string) => {
  const text = await (await t.fetch(new Request('http://steward.test/metrics'))).text()
  const line = text.split('\n').find((l) => l.startsWith(`${name} `))
  return line ? Number(line.split(' ')[1]) : undefined
}

describe('a poison event sent through the API', () => {
  it('is refused (400 naming the field) while other tenants’ events in flight are stored and shipped', async () => {
    const tenants = Array.from({ length: 4 }, () => uniqueCustomer('tenant'))
    const poisonCustomer = uniqueCustomer('poison')
    const [base] = workload(poisonCustomer, 1)
    const poisons: [string, unknown, string][] = [
      ['year 0', { ...base, ts: '0000-01-01T00:00:00+01:00' }, '0.ts'],
      ['year 9999', { ...base, ts: '9999-12-31T23:59:59Z' }, '0.ts'],
      ['a NUL byte', { ...base, projectId: 'a\u0000b' }, '0.projectId'],
    ]
    const shippedBefore = (await metric('steward_relay_shipped_total')) ?? 0
    const results = await Promise.all([
      ...poisons.map(async ([, event]) => postEvents(t, JSON.stringify([event]))),
      ...tenants.map((c) => postEvents(t, JSON.stringify(workload(c, 30)))),
    ])
    for (const [i, [what, , path]] of poisons.entries()) {
      expect(results[i]!.status, what).toBe(400)
      const p = (await results[i]!.json()) as { errors: { path: string }[] }
      expect(p.errors.map((e) => e.path)).toEqual([path])
    }
    expect(results.slice(poisons.length).map((r) => r.status)).toEqual(tenants.map(() => 202))
    // The pipeline drains: every tenant's events reach ClickHouse, none of the poison's.
    await eventually(
      () => outboxLag(t.deps.pool),
      (l) => l.backlog === 0,
    )
    for (const c of tenants) expect(await shippedOf(c)).toBe(30)
    expect(await shippedOf(poisonCustomer)).toBe(0)
    expect(await metric('steward_relay_shipped_total')).toBeGreaterThanOrEqual(shippedBefore + 120)
  })
})

describe('a poison row written straight into the outbox', () => {
  it('is set aside by the relay while the rest of its batch ships; /readyz and /metrics count it', async () => {
    const customer = uniqueCustomer('bypass')
    const events = workload(customer, 40)
    // One transaction: the poison row lands in the middle of the batch the relay will claim.
    const client = await t.deps.pool.connect()
    try {
      await client.query('BEGIN')
      await appendEvents(client, events.slice(0, 20))
      await client.query(
        `INSERT INTO telemetry_outbox (event_id, customer_id, source, body) VALUES ('poison-row', $1, 'operator', $2)`,
        [
          customer,
          JSON.stringify({
            type: 'probe',
            eventId: 'poison-row',
            ts: '0000-01-01T00:00:00+01:00',
            customerId: customer,
            target: 'api',
            ok: false,
            latencyMs: 1,
          }),
        ],
      )
      await appendEvents(client, events.slice(20))
      await client.query('COMMIT')
    } finally {
      client.release()
    }
    await eventually(
      () => outboxLag(t.deps.pool),
      (l) => l.backlog === 0,
    )
    expect(await shippedOf(customer)).toBe(40)
    const { rows } = await t.deps.pool.query(
      'SELECT event_id, customer_id, source, error FROM telemetry_outbox_dead WHERE customer_id = $1',
      [customer],
    )
    expect(rows).toEqual([
      {
        event_id: 'poison-row',
        customer_id: customer,
        source: 'operator',
        error: expect.stringMatching(/ClickHouse refused the row: CANNOT_PARSE_DATETIME/),
      },
    ])
    const ready = (await (await t.fetch(new Request('http://steward.test/readyz'))).json()) as {
      ingest: { outboxDeadRows: number; relay: { deadLettered: number } }
    }
    expect(ready.ingest).toMatchObject({
      outboxDeadRows: 1,
      relay: expect.objectContaining({ deadLettered: 1 }),
    })
    expect(await metric('steward_relay_dead_rows_total')).toBe(1)
    expect(await metric('steward_outbox_dead_rows')).toBe(1)
  })
})
