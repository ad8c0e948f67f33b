// The outbox relay with rows of several tables (targets.ts): OpenTelemetry rows travel the same
// outbox as events and reach their own tables once, under the same claims, tokens, partition cap
// and dead table.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { type ClickHouseClient, type ClickHouseHandle, chQuery } from '../../src/db/clickhouse.ts'
import { migrate } from '../../src/db/migrate.ts'
import type { Pool } from '../../src/db/postgres.ts'
import { ingestConfigSchema } from '../../src/ingest/config.ts'
import { appendEvents, OutboxRelay } from '../../src/ingest/index.ts'
import { chTimeNanos } from '../../src/ingest/otlp/values.ts'
import { appendItems, type OutboxItem } from '../../src/ingest/outbox.ts'
import { createTestPool, openTestClickHouse, quietLog } from '../helpers/db.ts'
import { faultyClickHouse, uniqueCustomer, workload } from './support.ts'

let pool: Pool
let ch: ClickHouseHandle

beforeAll(async () => {
  ;({ pool } = await createTestPool())
  ch = await openTestClickHouse()
  await migrate({ pool, clickhouse: ch.client, log: quietLog })
})
beforeEach(async () => {
  await pool.query(
    'DELETE FROM telemetry_outbox; DELETE FROM telemetry_outbox_batches; DELETE FROM telemetry_outbox_dead',
  )
})
afterAll(async () => {
  await pool?.end()
  await ch?.close()
})

const relay = (
  client: ClickHouseClient,
  over: Partial<ReturnType<typeof ingestConfigSchema.parse>['relay']> = {},
) =>
  new OutboxRelay({
    pool,
    clickhouse: client,
    config: { ...ingestConfigSchema.parse({}).relay, batchSize: 500, ...over },
    log: quietLog,
    instanceId: 'test',
  })

/** A minimal otel_traces row at `ms` (the columns the table has no default for are optional in JSONEachRow). */
const spanRow = (customerId: string, ms: number, name: string): OutboxItem => ({
  target: 'otel_traces',
  customerId,
  eventId: `otlp:span:${name}`,
  body: JSON.stringify({ Timestamp: chTimeNanos(BigInt(ms) * 1_000_000n), SpanName: name, TraceId: name }),
})
const logRow = (customerId: string, ms: number, body: string): OutboxItem => ({
  target: 'otel_logs',
  customerId,
  eventId: `otlp:log:${body}`,
  body: JSON.stringify({ Timestamp: chTimeNanos(BigInt(ms) * 1_000_000n), Body: body }),
})

const count = async (table: string, customer: string) =>
  (
    await chQuery<{ n: number }>(
      ch.client,
      `SELECT count() AS n FROM ${table} WHERE ${table === 'events' ? 'customer_id' : 'CustomerId'} = {c:String}`,
      { c: customer },
    )
  )[0]!.n

describe('the relay with OpenTelemetry rows', () => {
  it('ships each row of a mixed batch to its table, with its customer and source, once even when an acknowledgement is lost', async () => {
    const customer = uniqueCustomer('mixed')
    const now = Date.now()
    await appendEvents(pool, workload(customer, 6))
    await appendItems(
      pool,
      [
        spanRow(customer, now, `${customer}-a`),
        spanRow(customer, now, `${customer}-b`),
        logRow(customer, now, `${customer}-l`),
      ],
      'customer',
    )
    // The second insert (the batch's otel_traces rows) lands but its acknowledgement is lost.
    const lossy = faultyClickHouse(ch.client, { from: 2, to: 3, mode: 'after' })
    const r = relay(lossy)
    await expect(r.shipOnce(true)).rejects.toThrow(/acknowledgement lost/)
    expect(await r.drain()).toBe(9)
    expect(await count('events', customer)).toBe(6)
    expect(await count('otel_traces', customer)).toBe(2)
    expect(await count('otel_logs', customer)).toBe(1)
    const [row] = await chQuery<{ CustomerId: string; Source: string }>(
      ch.client,
      'SELECT CustomerId, Source FROM otel_logs WHERE CustomerId = {c:String}',
      { c: customer },
    )
    expect(row).toEqual({ CustomerId: customer, Source: 'customer' })
  })

  it('cuts a backfill of OpenTelemetry rows into inserts of at most the partition cap (days of those tables)', async () => {
    const customer = uniqueCustomer('days')
    const start = Date.UTC(2026, 0, 1, 12)
    await appendItems(
      pool,
      Array.from({ length: 25 }, (_, i) => spanRow(customer, start + i * 86_400_000, `${customer}-${i}`)),
      'operator',
    )
    const counting = faultyClickHouse(ch.client, { from: 0, to: 0 })
    expect(await relay(counting, { maxPartitionsPerInsert: 10 }).drain()).toBe(25)
    expect(counting.inserts).toBe(3)
    expect(await count('otel_traces', customer)).toBe(25)
  })

  it('sets aside a row that is not a row of its table, with the reason and its target', async () => {
    const customer = uniqueCustomer('dead')
    await appendItems(
      pool,
      [
        {
          target: 'otel_logs',
          customerId: customer,
          eventId: 'no-time',
          body: JSON.stringify({ Body: 'x' }),
        },
        logRow(customer, Date.now(), `${customer}-ok`),
      ],
      'customer',
    )
    const r = relay(ch.client)
    expect(await r.drain()).toBe(2)
    expect(r.status().deadLettered).toBe(1)
    expect(await count('otel_logs', customer)).toBe(1)
    const { rows } = await pool.query('SELECT event_id, target, error FROM telemetry_outbox_dead')
    expect(rows).toEqual([
      {
        event_id: 'no-time',
        target: 'otel_logs',
        error: expect.stringMatching(/^Timestamp: not a ClickHouse DateTime64/),
      },
    ])
  })
})
