// Service start and the witness: minutes before the installation first served are not in service
// (for the factory and every customer, whatever its `since`), imported history is, and a minute
// without telemetry is downtime only when the witness saw no instance serving either.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createPool } from '../../src/db/postgres.ts'
import { computeMonth } from '../../src/sla/index.ts'
import { firstServed, witnessBeat, witnessedMinutes, witnessSpans } from '../../src/sla/witness.ts'
import { startTestSteward } from '../helpers/app.ts'
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
beforeAll(async () => {
  env = await openSlaEnv({ defaultPlan: { monthlyFee: 1000 } })
  // Customers "since" August: long before this installation first served.
  await addCustomers(env.pool, ['acme'], '2026-08-01T00:00:00Z')
})
afterAll(async () => {
  await env?.close()
})

describe('the witness', () => {
  it('extends a span while beats are at most 60 s apart and opens a new one after a longer gap', async () => {
    const t = (s: number) => new Date(Date.UTC(2030, 0, 1, 0, 0, s))
    for (const s of [10, 25, 40, 55, 70, 85, 145, 206, 221]) await witnessBeat(env.pool, 'w-test', t(s))
    const spans = (await witnessSpans(env.pool, t(0), t(600))).filter((x) => x.instanceId === 'w-test')
    // 85 → 145 is 60 s (extends); 145 → 206 is 61 s (a new span).
    expect(spans.map((x) => [x.firstBeat.toISOString(), x.lastBeat.toISOString()])).toEqual([
      [t(10).toISOString(), t(145).toISOString()],
      [t(206).toISOString(), t(221).toISOString()],
    ])
    // Minutes wholly inside a span: 00:01 (60-120 s) only; 00:00 starts before the first beat and
    // 00:02 ends after the span's last beat.
    const month = parseMonth('2030-01')
    expect([...witnessedMinutes(month, spans).subarray(0, 5)]).toEqual([0, 1, 0, 0, 0])
  })

  it('is written by every serve instance while it runs, with a last beat on stop', async () => {
    const s = await startTestSteward({ file: { sla: { witnessIntervalMs: 1000 } } })
    const pool = s.deps.pool
    const spans = async () =>
      (
        await pool.query<{ first_beat: Date; last_beat: Date }>(
          'SELECT first_beat, last_beat FROM sla_witness WHERE instance_id = $1',
          [s.deps.instanceId],
        )
      ).rows
    await expect.poll(async () => (await spans()).length, { timeout: 10_000 }).toBe(1)
    const before = (await spans())[0]!
    await expect
      .poll(async () => (await spans())[0]!.last_beat > before.last_beat, { timeout: 10_000 })
      .toBe(true)
    const beforeStop = (await spans())[0]!.last_beat
    const url = s.postgres.url
    await s.stop()
    const after = createPool(url, { max: 1 })
    const { rows } = await after.query<{ n: number; last: Date }>(
      'SELECT count(*)::int AS n, max(last_beat) AS last FROM sla_witness',
    )
    await after.end()
    expect(rows[0]!.n).toBe(1)
    expect(rows[0]!.last.getTime()).toBeGreaterThanOrEqual(beforeStop.getTime())
  })
})

describe('service start', () => {
  it('gives a fresh install its real month to date, not 0%: minutes before it first served are not in service', async () => {
    const nov = parseMonth('2026-11')
    // First served on 29 November at 08:00:20; heartbeats every minute since; now is 09:00.
    await witnessSpan(env.pool, '2026-11-29T08:00:20Z', '2026-11-29T09:00:00Z')
    const from = (Date.parse('2026-11-29T08:01:00Z') - nov.start.getTime()) / 60_000
    await insertEvents(
      env.ch,
      heartbeats(nov).filter((e) => Date.parse(e.ts) >= Date.parse('2026-11-29T08:01:00Z')),
    )
    const f = await computeMonth(env, nov, ['acme'], { now: new Date('2026-11-29T09:00:00Z') })
    expect(f.period).toBe('month-to-date')
    expect(f.overall.uptime).toMatchObject({
      minutes: from + 59,
      notInServiceMinutes: from,
      eligibleMinutes: 59,
      downMinutes: 0,
      percent: 100,
    })
    expect(f.overall.coverage).toMatchObject({
      inServiceSince: '2026-11-29T08:01:00.000Z',
      missingMinutes: 0,
    })
    expect(f.customers[0]!.uptime).toMatchObject({
      notInServiceMinutes: from,
      eligibleMinutes: 59,
      percent: 100,
    })
    expect(f.customers[0]!.evaluation.creditPercent).toBe(0)
    expect(await firstServed(env.pool)).toEqual(new Date('2026-11-29T08:00:20Z'))
  })

  it("never credits a month before the first serve, whatever the customer's since", async () => {
    const sept = parseMonth('2026-09')
    const f = await computeMonth(env, sept, ['acme'], { now: new Date('2026-11-29T09:00:00Z') })
    expect(f.customers[0]!.uptime).toMatchObject({
      notInServiceMinutes: sept.minutes,
      eligibleMinutes: 0,
      downMinutes: 0,
    })
    expect(f.customers[0]!.evaluation).toMatchObject({ creditPercent: 0, tiers: [] })
  })

  it('counts imported history as in service, its gaps as down, and nothing between it and the first serve', async () => {
    const oct = parseMonth('2026-10')
    // The operator imported October's heartbeats up to 20 October 00:00, with a 30-minute gap.
    const until = (Date.parse('2026-10-20T00:00:00Z') - oct.start.getTime()) / 60_000
    await insertEvents(env.ch, heartbeats(oct, new Set([...range(500, 30), ...range(until, oct.minutes)])))
    const f = await computeMonth(env, oct, ['acme'])
    expect(f.customers[0]!.uptime).toMatchObject({
      eligibleMinutes: until,
      downMinutes: 30,
      notInServiceMinutes: oct.minutes - until,
    })
    const nov = await computeMonth(env, parseMonth('2026-11'), ['acme'], {
      now: new Date('2026-11-29T09:00:00Z'),
    })
    expect(nov.overall.uptime.downMinutes).toBe(0)
  })
})
