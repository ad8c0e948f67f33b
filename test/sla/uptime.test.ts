// Uptime per minute from heartbeats and probes, against golden telemetry in chDB.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { allowedDowntimeMinutes, computeMonth, formatMinutes } from '../../src/sla/index.ts'
import {
  addCustomers,
  type GoldenEvent,
  heartbeats,
  insertEvents,
  minuteOf,
  openSlaEnv,
  parseMonth,
  range,
  type SlaTestEnv,
} from './golden.ts'

let env: SlaTestEnv
beforeAll(async () => {
  env = await openSlaEnv({ defaultPlan: { monthlyFee: 1000 } })
  await addCustomers(env.pool, ['acme', 'globex', 'probed'])
})
afterAll(async () => {
  await env?.close()
})

describe('allowed downtime', () => {
  it.each([
    [99, 28, 403.2, '6h43m12s'],
    [99, 30, 432, '7h12m'],
    [99, 31, 446.4, '7h26m24s'],
    [99.9, 28, 40.32, '40m19.2s'],
    [99.9, 30, 43.2, '43m12s'],
    [99.9, 31, 44.64, '44m38.4s'],
    [99.99, 28, 4.032, '4m1.9s'],
    [99.99, 30, 4.32, '4m19.2s'],
    [99.99, 31, 4.464, '4m27.8s'],
  ])('allows %s%% over a %s-day month %s minutes (%s)', (target, days, minutes, text) => {
    expect(allowedDowntimeMinutes(target, days * 1440)).toBeCloseTo(minutes, 9)
    expect(formatMinutes(allowedDowntimeMinutes(target, days * 1440))).toBe(text)
  })

  it('knows the length of February, 30- and 31-day months in UTC', () => {
    expect(parseMonth('2026-02').days).toBe(28)
    expect(parseMonth('2028-02').days).toBe(29)
    expect(parseMonth('2026-06').minutes).toBe(43_200)
    expect(parseMonth('2026-07').minutes).toBe(44_640)
  })
})

describe('monthly uptime', () => {
  it('gives 99.9004% (rounded down, never up) and no credit for exactly 43 down minutes in a 30-day month', async () => {
    const june = parseMonth('2026-06')
    await insertEvents(env.ch, heartbeats(june, new Set(range(1000, 43))))
    const f = await computeMonth(env, june, ['acme'])
    const acme = f.customers[0]!
    expect(f.overall.uptime).toMatchObject({ eligibleMinutes: 43_200, downMinutes: 43, percent: 99.9004 })
    expect(acme.uptime).toMatchObject({ downMinutes: 43, percent: 99.9004, met: true })
    expect(acme.uptime.downtimePeriods).toEqual([
      { start: '2026-06-01T16:40:00.000Z', end: '2026-06-01T17:23:00.000Z', minutes: 43 },
    ])
    expect(acme.evaluation).toMatchObject({ creditPercent: 0, creditCents: 0, tiers: [] })
  })

  it('gives below 99.9% and a 10% credit for 44 down minutes', async () => {
    const sept = parseMonth('2026-09')
    await insertEvents(env.ch, heartbeats(sept, new Set([...range(10, 20), ...range(5000, 24)])))
    const acme = (await computeMonth(env, sept, ['acme'])).customers[0]!
    expect(acme.uptime).toMatchObject({ downMinutes: 44, percent: 99.8981, met: false })
    expect(acme.uptime.downtimePeriodCount).toBe(2)
    expect(acme.evaluation.tiers).toEqual([
      { metric: 'uptime', detail: '43156/43200 minutes up', below: 99.9, creditPercent: 10 },
    ])
    expect(acme.evaluation).toMatchObject({ creditPercent: 10, feeCents: 100_000, creditCents: 10_000 })
  })

  it('counts a minute with no signal (and no witness), or only unhealthy ones, as down, and a healthy probe as up', async () => {
    const nov = parseMonth('2025-11')
    // Minutes 100-103 of the month; the minutes before the first signal of all would not be in service.
    const down = new Set([100, 101, 102, 103])
    const events = heartbeats(nov, down)
    // 100: nothing; 101: an unhealthy heartbeat only; 102: a failed probe only; 103: an ok probe.
    events.push(
      {
        type: 'heartbeat',
        ts: '2025-11-01T01:41:10Z',
        instanceId: 'cp-1',
        component: 'control_plane',
        healthy: false,
      },
      { type: 'probe', ts: '2025-11-01T01:42:10Z', target: 'api', ok: false, latencyMs: 5000 },
      { type: 'probe', ts: '2025-11-01T01:43:10Z', target: 'api', ok: true, latencyMs: 40 },
      // a worker heartbeat says nothing about the control plane
      {
        type: 'heartbeat',
        ts: '2025-11-01T01:40:10Z',
        instanceId: 'w-1',
        component: 'worker',
        healthy: true,
      },
    )
    await insertEvents(env.ch, events)
    const f = await computeMonth(env, nov, ['acme'])
    expect(f.overall.uptime.downMinutes).toBe(3)
    expect(f.overall.uptime.downtimePeriods[0]).toMatchObject({
      start: '2025-11-01T01:40:00.000Z',
      minutes: 3,
    })
  })

  it("counts a customer's minute down when that customer's own probes all failed", async () => {
    const june = parseMonth('2026-06')
    const probes: GoldenEvent[] = range(100, 5).map((m) => ({
      type: 'probe',
      customerId: 'probed',
      ts: new Date(june.start.getTime() + m * 60_000 + 30_000).toISOString(),
      target: 'probed-endpoint',
      ok: false,
      latencyMs: 10_000,
    }))
    await insertEvents(env.ch, probes)
    const f = await computeMonth(env, june, ['acme', 'probed'])
    expect(f.overall.uptime.downMinutes).toBe(43)
    expect(f.customers.map((c) => [c.customerId, c.uptime.downMinutes])).toEqual([
      ['acme', 43],
      ['probed', 48],
    ])
  })
})

describe('UTC boundaries', () => {
  it('puts an event at 23:59:59.999 in the last minute of its month and 00:00 in the next', async () => {
    const aug = parseMonth('2026-08')
    // August: heartbeats every minute but the first and the last; the first comes from July's edge.
    const events = heartbeats(aug, new Set([0, aug.minutes - 1]))
    events.push(
      {
        type: 'heartbeat',
        ts: '2026-07-31T23:59:59.999Z',
        instanceId: 'cp',
        component: 'control_plane',
        healthy: true,
      },
      {
        type: 'heartbeat',
        ts: '2026-09-01T00:00:00.000Z',
        instanceId: 'cp',
        component: 'control_plane',
        healthy: true,
      },
    )
    await insertEvents(env.ch, events)
    const f = await computeMonth(env, aug, ['acme'])
    expect(f.overall.uptime.downMinutes).toBe(2)
    expect(f.overall.uptime.downtimePeriods.map((p) => p.start)).toEqual([
      '2026-08-01T00:00:00.000Z',
      '2026-08-31T23:59:00.000Z',
    ])
  })

  it('splits the daily chart on UTC midnight', async () => {
    const may = parseMonth('2026-05')
    const down = new Set([
      minuteOf(may, '2026-05-10T23:59:00Z'),
      minuteOf(may, '2026-05-11T00:00:00Z'),
      minuteOf(may, '2026-05-11T00:01:00Z'),
    ])
    await insertEvents(env.ch, heartbeats(may, down))
    const { daily } = (await computeMonth(env, may, ['acme'])).overall.uptime
    expect(daily).toHaveLength(31)
    expect(daily[9]).toEqual({ day: '2026-05-10', eligibleMinutes: 1440, downMinutes: 1, percent: 99.9305 })
    expect(daily[10]).toMatchObject({ day: '2026-05-11', downMinutes: 2 })
    expect(daily.reduce((a, d) => a + d.downMinutes, 0)).toBe(3)
  })
})

describe('maintenance', () => {
  it('excludes minutes wholly inside a planned window from both sides of the ratio', async () => {
    const apr = parseMonth('2026-04')
    // 120 minutes down from 02:00; maintenance declared 02:00-03:00 plus a partial minute at each end.
    await insertEvents(env.ch, heartbeats(apr, new Set(range(120, 120))))
    await env.pool.query(
      `INSERT INTO sla_maintenance_windows (starts_at, ends_at, reason) VALUES ('2026-04-01T02:00:00Z', '2026-04-01T03:00:30Z', 'db upgrade')`,
    )
    const f = await computeMonth(env, apr, ['acme'])
    const u = f.customers[0]!.uptime
    expect(u).toMatchObject({ maintenanceMinutes: 60, eligibleMinutes: 43_140, downMinutes: 60 })
    expect(u.percent).toBe(99.8609)
    expect(f.customers[0]!.maintenance).toHaveLength(1)
  })

  it('applies a customer-specific window only to that customer', async () => {
    const apr = parseMonth('2026-04')
    await env.pool.query(
      `INSERT INTO sla_maintenance_windows (customer_id, starts_at, ends_at, reason) VALUES ('globex', '2026-04-01T03:00:00Z', '2026-04-01T04:00:00Z', 'migration')`,
    )
    const f = await computeMonth(env, apr, ['acme', 'globex'])
    expect(f.customers.map((c) => [c.customerId, c.uptime.downMinutes, c.uptime.maintenanceMinutes])).toEqual(
      [
        ['acme', 60, 60],
        ['globex', 0, 120],
      ],
    )
    expect(f.overall.uptime).toMatchObject({ downMinutes: 60, maintenanceMinutes: 60 })
  })
})

describe('rollups against raw events', () => {
  it('gives the same uptime from signals_1m as from scanning raw events', async () => {
    const june = parseMonth('2026-06')
    const [a, b] = await Promise.all([
      computeMonth(env, june, ['acme'], { source: 'rollup' }),
      computeMonth(env, june, ['acme'], { source: 'raw' }),
    ])
    expect(b.customers[0]!.uptime).toEqual(a.customers[0]!.uptime)
  })
})
