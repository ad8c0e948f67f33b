// The monthly close: immutable records, issued once (also when run twice or concurrently),
// billing adjustments, customer notices, the ClickHouse copy, and catching up every past month in
// service. History: September and October 2025 as imported heartbeats (no witness), then the
// installation first served on 1 November and ran all November (witness), then went silent.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { chQuery } from '../../src/db/clickhouse.ts'
import { closeDueMonths, closeMonth } from '../../src/sla/index.ts'
import {
  addCustomers,
  heartbeats,
  insertEvents,
  openSlaEnv,
  parseMonth,
  range,
  type SlaTestEnv,
  witnessSpan,
} from './golden.ts'

let env: SlaTestEnv
const sept = parseMonth('2025-09')
const oct = parseMonth('2025-10')
const nov = parseMonth('2025-11')
const after = new Date('2025-12-01T00:15:00Z')

beforeAll(async () => {
  env = await openSlaEnv({ defaultPlan: { monthlyFee: 1000 }, firstMonth: '2025-09' })
  await addCustomers(env.pool, ['acme', 'globex'], '2025-08-15T00:00:00Z')
  // a customer that only arrived in October gets no September record
  await addCustomers(env.pool, ['newco'], '2025-10-05T00:00:00Z')
  // September's 44 down minutes start at 01:00: minutes before the first signal ever would not be
  // in service (there is no witness before November).
  await insertEvents(env.ch, [
    ...heartbeats(sept, new Set(range(60, 44))),
    ...heartbeats(oct, new Set(range(0, 10))),
    ...heartbeats(nov),
  ])
  await witnessSpan(env.pool, '2025-11-01T00:00:00Z', '2025-12-01T00:00:00Z')
})
afterAll(async () => {
  await env?.close()
})

const credits = async () =>
  (
    await env.pool.query<{
      customer_id: string
      month: string
      credit_cents: number
      credit_percent: string
    }>(
      `SELECT customer_id, to_char(month, 'YYYY-MM') AS month, credit_cents, credit_percent::text FROM sla_credits ORDER BY month, customer_id`,
    )
  ).rows

describe('closing a month', () => {
  it('issues one immutable record per customer with the inputs behind it', async () => {
    const r = await closeMonth(env, sept, after)
    expect(r).toEqual({
      month: '2025-09',
      status: 'closed',
      computed: 2,
      issued: 2,
      reason: null,
      hold: null,
    })
    const { rows } = await env.pool.query(
      `SELECT customer_id, plan_version, credit_percent::float8 AS pct, credit_cents, tiers, inputs, inputs_sha256 FROM sla_credits WHERE customer_id = 'acme'`,
    )
    expect(rows[0]).toMatchObject({ plan_version: 0, pct: 10, credit_cents: 10_000 })
    expect(rows[0].tiers).toEqual([
      { metric: 'uptime', detail: '43156/43200 minutes up', below: 99.9, creditPercent: 10 },
    ])
    expect(rows[0].inputs.uptime).toMatchObject({
      downMinutes: 44,
      eligibleMinutes: 43_200,
      percent: 99.8981,
    })
    expect(rows[0].inputs.plan).toMatchObject({ uptimeTarget: 99.9, monthlyFee: 1000, version: 0 })
    expect(rows[0].inputs_sha256).toMatch(/^[0-9a-f]{64}$/)
    await expect(env.pool.query(`UPDATE sla_credits SET credit_cents = 0`)).rejects.toThrow(/immutable/)
    await expect(env.pool.query(`DELETE FROM sla_credits`)).rejects.toThrow(/immutable/)
  })

  it('exports the credit as a billing adjustment for the next cycle and queues one notice', async () => {
    const adj = await env.pool.query(
      `SELECT customer_id, to_char(billing_cycle, 'YYYY-MM') AS cycle, amount_cents, currency FROM sla_billing_adjustments ORDER BY customer_id`,
    )
    expect(adj.rows).toEqual([
      { customer_id: 'acme', cycle: '2025-10', amount_cents: -10_000, currency: 'USD' },
      { customer_id: 'globex', cycle: '2025-10', amount_cents: -10_000, currency: 'USD' },
    ])
    const notes = await env.pool.query(
      `SELECT customer_id, kind, dedup_key, payload FROM customer_notifications ORDER BY customer_id`,
    )
    expect(notes.rows.map((n) => [n.customer_id, n.kind, n.dedup_key])).toEqual([
      ['acme', 'sla.credit_issued', 'sla:2025-09'],
      ['globex', 'sla.credit_issued', 'sla:2025-09'],
    ])
    expect(notes.rows[0].payload).toMatchObject({
      creditAmount: '100.00',
      billingCycle: '2025-10',
      uptimePercent: 99.8981,
    })
  })

  it('issues nothing twice when run again', async () => {
    expect(await closeMonth(env, sept, after)).toMatchObject({
      month: '2025-09',
      status: 'closed',
      computed: 0,
      issued: 0,
    })
    expect(await credits()).toHaveLength(2)
    const { rows } = await env.pool.query('SELECT count(*)::int AS n FROM customer_notifications')
    expect(rows[0].n).toBe(2)
  })

  it('issues nothing twice when two closes run at once', async () => {
    const results = await Promise.all([
      closeMonth(env, oct, after),
      closeMonth(env, oct, after),
      closeMonth(env, oct, after),
    ])
    expect(results.reduce((a, r) => a + r.issued, 0)).toBe(3)
    const octRecords = (await credits()).filter((c) => c.month === '2025-10')
    expect(octRecords.map((c) => c.customer_id)).toEqual(['acme', 'globex', 'newco'])
    expect(octRecords.map((c) => c.credit_cents)).toEqual([0, 0, 0])
    // newco arrived on 5 October: measured from then, so October 1's 10 down minutes are not its own.
    const { rows: newco } = await env.pool.query(
      `SELECT inputs->'uptime' AS u FROM sla_credits WHERE customer_id = 'newco' AND month = '2025-10-01'`,
    )
    expect(newco[0].u).toMatchObject({ notInServiceMinutes: 4 * 1440, downMinutes: 0, percent: 100 })
    const { rows } = await env.pool.query(`SELECT count(*)::int AS n FROM sla_billing_adjustments`)
    expect(rows[0].n).toBe(2)
  })

  it("never closes a month before the factory was in service, whatever the customers' since says", async () => {
    // acme and globex are customers since 15 August; the first signal of all is on 1 September.
    await expect(closeMonth(env, parseMonth('2025-08'), after)).rejects.toThrow(
      /2025-08 was not in service \(in service since 2025-09-01T00:00:00.000Z\)/,
    )
    expect((await credits()).filter((c) => c.month === '2025-08')).toEqual([])
  })

  it('refuses to close a month that has not ended', async () => {
    await expect(closeMonth(env, parseMonth('2025-11'), new Date('2025-11-30T23:59:00Z'))).rejects.toThrow(
      /not ended/,
    )
  })

  it('writes the figures and credits to ClickHouse sla_monthly for Grafana', async () => {
    const rows = await chQuery<{
      customer_id: string
      metric: string
      value: number
      credit_percent: number
      credit_amount: number
      credit_cents: string
    }>(
      env.ch,
      `SELECT customer_id, metric, value, credit_percent, credit_amount, toString(credit_cents) AS credit_cents
       FROM sla_monthly FINAL
       WHERE month = toDate('2025-09-01') AND metric IN ('uptime', 'credit') ORDER BY customer_id, metric`,
    )
    // The money is on the credit row only, in the cents billed; a metric row carries its tier's %.
    const credit = {
      metric: 'credit',
      value: 10,
      credit_percent: 10,
      credit_amount: 100,
      credit_cents: '10000',
    }
    const uptime = {
      metric: 'uptime',
      value: 99.8981,
      credit_percent: 10,
      credit_amount: 0,
      credit_cents: '0',
    }
    expect(rows).toEqual([
      { customer_id: 'acme', ...credit },
      { customer_id: 'acme', ...uptime },
      { customer_id: 'globex', ...credit },
      { customer_id: 'globex', ...uptime },
    ])
  })
})

describe('the scheduled close and the manual close: one path', () => {
  it('defers a month while the outbox holds events enqueued before it ended, scheduled or manual', async () => {
    await env.pool.query(
      `INSERT INTO telemetry_outbox (event_id, body, enqueued_at) VALUES ('late', '{}', '2025-11-30T23:00:00Z')`,
    )
    const r = await closeDueMonths(env, after)
    expect(r.closed).toEqual([])
    expect(r.deferred.map((d) => d.month)).toEqual(['2025-11'])
    expect(await closeMonth(env, nov, after)).toMatchObject({
      status: 'deferred',
      issued: 0,
      reason: expect.stringMatching(/1 telemetry events are still in the outbox/),
    })
    expect((await credits()).filter((c) => c.month === '2025-11')).toEqual([])
    await env.pool.query(`DELETE FROM telemetry_outbox`)
  })

  it('closes every un-closed past month, and nothing on a second run', async () => {
    const now = new Date('2026-01-01T00:15:00Z')
    const r = await closeDueMonths(env, now)
    expect(r.closed.map((c) => [c.month, c.issued])).toEqual([
      ['2025-11', 3],
      ['2025-12', 3],
    ])
    expect((await closeDueMonths(env, now)).closed).toEqual([])
    // November: served (witness) and signalled throughout. December: the installation had served,
    // then neither ClickHouse nor the witness shows any life: real downtime, a 100% credit.
    const byMonth = async (m: string) => (await credits()).filter((c) => c.month === m)
    expect((await byMonth('2025-11')).map((c) => c.credit_percent)).toEqual(['0', '0', '0'])
    expect((await byMonth('2025-12')).map((c) => c.credit_percent)).toEqual(['100', '100', '100'])
  })
})
