// The figures each dashboard panel shows for the seeded workload equal the figures computed
// independently (plain TypeScript over the same events, see workload.ts): success rate, failure
// classes, volume, retries, durations, cost with a price change, uptime, DLQ, incidents, RTO, SLA.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type ClickHousePanel, DASHBOARDS, type DashboardSpec, isRow } from '../../src/dashboards/index.ts'
import type { ClickHouseClient } from '../../src/db/clickhouse.ts'
import { TelemetryEvent } from '../../src/ingest/index.ts'
import type { ExpandContext } from './expand.ts'
import { openSeededClickHouse, runPanelSql } from './harness.ts'
import { API, EVENTS, PRICES, RECOVERIES, RUNS, SLA_ROWS, UP_MINUTES } from './workload.ts'

let ch: { client: ClickHouseClient; close(): Promise<void> }
beforeAll(async () => {
  ch = await openSeededClickHouse()
})
afterAll(async () => {
  await ch?.close()
})

const events = EVENTS.map((e) => TelemetryEvent.parse(e))
const jobEvents = events.flatMap((e) => (e.type === 'job' ? [e] : []))
const count = <T>(xs: T[], f: (x: T) => boolean) => xs.filter(f).length

function panel(dashboard: DashboardSpec, title: string): ClickHousePanel {
  const p = dashboard.panels.find((x) => !isRow(x) && x.title === title)
  if (!p || isRow(p) || p.source !== 'clickhouse') throw new Error(`no ClickHouse panel ${title}`)
  return p
}
// biome-ignore lint/suspicious/noExplicitAny: result rows are dynamic; each test asserts the fields it reads
type Row = any
async function rows(
  dashboard: DashboardSpec,
  title: string,
  ctx: Partial<ExpandContext> = {},
): Promise<Row[]> {
  return (await runPanelSql(ch.client, panel(dashboard, title).sql, ctx)).rows
}
const [runs, cost, perf, reliability, sla] = (
  ['runs.json', 'cost.json', 'performance.json', 'reliability.json', 'sla.json'] as const
).map((f) => DASHBOARDS[f]!) as [DashboardSpec, DashboardSpec, DashboardSpec, DashboardSpec, DashboardSpec]

describe('Runs dashboard', () => {
  const successRate = (rs: typeof RUNS) =>
    count(rs, (r) => r.outcome === 'succeeded') / count(rs, (r) => r.outcome !== 'cancelled')

  it('shows succeeded / (succeeded + failed) as the success rate, for all and for one customer', async () => {
    const [all] = await rows(runs, 'Success rate')
    expect(all!.success_rate).toBeCloseTo(successRate(RUNS), 12)
    const [globex] = await rows(runs, 'Success rate', { variables: { customer: ['globex'] } })
    expect(globex!.success_rate).toBeCloseTo(successRate(RUNS.filter((r) => r.customerId === 'globex')), 12)
    expect(globex!.success_rate).not.toBeCloseTo(all!.success_rate, 6)
  })

  it('counts finished runs by outcome', async () => {
    const [r] = await rows(runs, 'Runs finished')
    expect(r).toEqual({
      finished: RUNS.length,
      succeeded: count(RUNS, (x) => x.outcome === 'succeeded'),
      failed: count(RUNS, (x) => x.outcome === 'failed'),
      cancelled: count(RUNS, (x) => x.outcome === 'cancelled'),
    })
  })

  it('splits failures by class with their share of finished runs', async () => {
    const finished = count(RUNS, (r) => r.outcome !== 'cancelled')
    const expected = ['agent', 'transient']
      .map((c) => ({ error_class: c, failed: count(RUNS, (r) => r.errorClass === c) }))
      .sort((a, b) => b.failed - a.failed || a.error_class.localeCompare(b.error_class))
    const got = await rows(runs, 'Failures by class')
    expect(got.map((r) => ({ error_class: r.error_class, failed: r.failed }))).toEqual(expected)
    for (const r of got) expect(r.failure_rate).toBeCloseTo(r.failed / finished, 12)
  })

  it('counts run volume per UTC day from event times', async () => {
    const perDay = new Map<string, Record<string, number>>()
    for (const e of events) {
      if (e.type !== 'run') continue
      const day = `${e.ts.slice(0, 10)} 00:00:00`
      const d = perDay.get(day) ?? { created: 0, succeeded: 0, failed: 0, cancelled: 0 }
      if (e.action in d) d[e.action]! += 1
      perDay.set(day, d)
    }
    const got = await rows(runs, 'Run volume per day')
    expect(got).toEqual([...perDay].sort().map(([time, d]) => ({ time, ...d })))
  })

  it('shows job retries / attempts started as the retry rate', async () => {
    const [r] = await rows(runs, 'Job retry rate')
    const expected =
      count(jobEvents, (e) => e.action === 'retried') / count(jobEvents, (e) => e.action === 'started')
    expect(r!.retry_rate).toBeCloseTo(expected, 12)
    const [cpu] = await rows(runs, 'Job retry rate', { variables: { pool: ['cpu'] } })
    const cpuJobs = jobEvents.filter((e) => e.pool === 'cpu')
    expect(cpu!.retry_rate).toBeCloseTo(
      count(cpuJobs, (e) => e.action === 'retried') / count(cpuJobs, (e) => e.action === 'started'),
      12,
    )
  })

  it('gives per run type the finished count, exact mean and a median within the observed durations', async () => {
    const got = await rows(runs, 'Duration by run type')
    for (const type of ['build', 'review']) {
      const ds = RUNS.filter((r) => r.runType === type).map((r) => r.durationMs)
      const row = got.find((r) => r.run_type === type)!
      expect(row.finished).toBe(ds.length)
      expect(row.avg_ms).toBeCloseTo(ds.reduce((a, b) => a + b, 0) / ds.length, 6)
      const sorted = [...ds].sort((a, b) => a - b)
      const median = (sorted[Math.floor((ds.length - 1) / 2)]! + sorted[Math.ceil((ds.length - 1) / 2)]!) / 2
      expect(Math.abs(row.p50_ms - median)).toBeLessThanOrEqual(4000) // approximate quantile, 4 s steps
      expect(row.p99_ms).toBeLessThanOrEqual(sorted.at(-1)!)
    }
  })
})

describe('Cost dashboard', () => {
  const hourStart = (ts: string) => Math.floor(Date.parse(ts) / 3_600_000) * 3_600_000
  const inForce = <T extends { effectiveFrom: string }>(list: readonly T[], ts: string) =>
    list
      .filter((p) => Date.parse(p.effectiveFrom) <= hourStart(ts))
      .sort((a, b) => Date.parse(b.effectiveFrom) - Date.parse(a.effectiveFrom))[0]
  const costs = events.flatMap((e) => {
    if (e.type === 'usage') {
      const p = inForce(
        PRICES.models.filter((m) => m.model === e.model),
        e.ts,
      )
      const ai = p ? (e.inputTokens * p.inputPerMillion + e.outputTokens * p.outputPerMillion) / 1e6 : 0
      return [{ customerId: e.customerId, runType: e.runType, model: e.model, ai, infra: 0 }]
    }
    if (e.type === 'job' && e.durationMs) {
      const p = inForce(
        PRICES.pools.filter((x) => x.pool === e.pool),
        e.ts,
      )
      return [
        {
          customerId: e.customerId,
          runType: e.runType,
          model: '',
          ai: 0,
          infra: (e.durationMs / 1000) * p!.perWorkerSecond,
        },
      ]
    }
    return []
  })
  const sum = (xs: typeof costs, f: (c: (typeof costs)[number]) => number) => xs.reduce((a, c) => a + f(c), 0)

  it('prices tokens at the model price in force each hour and worker-seconds at the pool price', async () => {
    const [total] = await rows(cost, 'Total cost')
    expect(total!.total_cost).toBeCloseTo(
      sum(costs, (c) => c.ai + c.infra),
      9,
    )
    // The gpt-a price doubled on day two: a single price would give another figure.
    const [split] = await rows(cost, 'AI and infrastructure cost')
    expect(split!.ai_cost).toBeCloseTo(
      sum(costs, (c) => c.ai),
      9,
    )
    expect(split!.infra_cost).toBeCloseTo(
      sum(costs, (c) => c.infra),
      9,
    )
  })

  it('breaks cost down per customer', async () => {
    const got = await rows(cost, 'Cost per customer')
    for (const customer of ['acme', 'globex']) {
      const mine = costs.filter((c) => c.customerId === customer)
      const row = got.find((r) => r.customer_id === customer)!
      expect(row.ai_cost).toBeCloseTo(
        sum(mine, (c) => c.ai),
        9,
      )
      expect(row.infra_cost).toBeCloseTo(
        sum(mine, (c) => c.infra),
        9,
      )
      expect(row.total_cost).toBeCloseTo(row.ai_cost + row.infra_cost, 9)
    }
  })

  it('divides each run type cost by the runs of that type that ended', async () => {
    const got = await rows(cost, 'Cost per run type')
    for (const type of ['build', 'review']) {
      const row = got.find((r) => r.run_type === type)!
      const ended = count(RUNS, (r) => r.runType === type)
      expect(row.runs).toBe(ended)
      expect(row.cost_per_run).toBeCloseTo(
        sum(
          costs.filter((c) => c.runType === type),
          (c) => c.ai + c.infra,
        ) / ended,
        9,
      )
    }
  })

  it('sums tokens per model and customer', async () => {
    const got = await rows(cost, 'Tokens and cost by model and customer')
    const usage = events.flatMap((e) => (e.type === 'usage' ? [e] : []))
    for (const row of got) {
      const mine = usage.filter((u) => u.model === row.model && u.customerId === row.customer_id)
      expect(row.input_tokens).toBe(mine.reduce((a, u) => a + u.inputTokens, 0))
      expect(row.output_tokens).toBe(mine.reduce((a, u) => a + u.outputTokens, 0))
    }
    expect(got.length).toBe(new Set(usage.map((u) => `${u.model}/${u.customerId}`)).size)
  })

  it('lists usage of a model without a price', async () => {
    expect(await rows(cost, 'Usage without a price')).toEqual([
      { source: 'ai', name: 'mystery-model', tokens: 777, worker_seconds: 0 },
    ])
  })
})

describe('Performance dashboard', () => {
  it('averages job events per second over each interval, at least an hour', async () => {
    const day = 86_400
    const got = await rows(perf, 'Job attempts per second by outcome', { intervalSeconds: day })
    const succeededOnDay1 = count(jobEvents, (e) => e.action === 'succeeded' && e.ts.startsWith('2026-03-01'))
    const row = got.find((r) => r.time === '2026-03-01 00:00:00' && r.action === 'succeeded')
    expect(row.per_second).toBeCloseTo(succeededOnDay1 / day, 12)
    expect(got.some((r) => r.action === 'started')).toBe(false)
  })

  it('turns handler time into busy workers per pool', async () => {
    const got = await rows(perf, 'Busy workers by pool', { intervalSeconds: 86_400 })
    for (const pool of ['cpu', 'gpu']) {
      const ms = jobEvents.filter((e) => e.pool === pool).reduce((a, e) => a + (e.durationMs ?? 0), 0)
      const total = got.filter((r) => r.pool === pool).reduce((a, r) => a + r.busy_workers, 0)
      expect(total).toBeCloseTo(ms / 1000 / 86_400, 12)
    }
  })

  it('counts API requests and 5xx per route', async () => {
    const got = await rows(perf, 'API response times by route')
    for (const route of ['/v1/events', '/v1/runs']) {
      const mine = API.filter((a) => a.route === route)
      const row = got.find((r) => r.route === route)!
      expect(row.requests).toBe(mine.length)
      expect(row.errors_5xx).toBe(count(mine, (a) => a.status >= 500))
      expect(row.p99_ms).toBeLessThanOrEqual(Math.max(...mine.map((a) => a.durationMs)))
    }
  })
})

describe('Reliability dashboard', () => {
  it('counts a minute up on a healthy control-plane heartbeat or ok probe, and a silent minute down', async () => {
    const [u] = await rows(reliability, 'Uptime')
    expect(u).toEqual({ uptime: UP_MINUTES / 2880, up_minutes: UP_MINUTES, minutes: 2880 })
    const down = await rows(reliability, 'Down minutes')
    expect(down.reduce((a, r) => a + r.down_minutes, 0)).toBe(2880 - UP_MINUTES)
    expect(down).toHaveLength(48)
  })

  it('shows attempts ending in error / attempts ended as the worker error rate', async () => {
    const errors = count(jobEvents, (e) =>
      ['failed', 'retried', 'dead_lettered', 'reclaimed'].includes(e.action),
    )
    const ended = errors + count(jobEvents, (e) => e.action === 'succeeded')
    const [r] = await rows(reliability, 'Worker error rate')
    expect(r!.error_rate).toBeCloseTo(errors / ended, 12)
  })

  it('counts jobs still dead-lettered, not one an operator retried', async () => {
    const dead = new Set(jobEvents.filter((e) => e.action === 'dead_lettered').map((e) => e.jobId))
    const last = new Map<string, string>()
    for (const e of [...jobEvents].sort((a, b) => a.ts.localeCompare(b.ts))) last.set(e.jobId, e.action)
    const expected = [...dead].filter((j) => last.get(j) === 'dead_lettered').length
    expect(expected).toBe(dead.size - 1)
    expect(await rows(reliability, 'DLQ size')).toEqual([{ dlq_size: expected }])
  })

  it('counts incidents not resolved as open and lists each with its state', async () => {
    expect(await rows(reliability, 'Open incidents')).toEqual([{ open_incidents: 2 }])
    const list = await rows(reliability, 'Incidents')
    expect(Object.fromEntries(list.map((r) => [r.incident_id, r.state]))).toEqual({
      'inc-1': 'resolved',
      'inc-2': 'triggered',
      'inc-3': 'acknowledged',
    })
  })

  it('measures RTO per recovery kind against the latest closed target', async () => {
    const got = await rows(reliability, 'RTO by recovery kind vs target')
    const workers: number[] = RECOVERIES.filter((r) => r.kind === 'worker_recovery').map((r) => r.rtoS)
    expect(got).toEqual([
      {
        recovery_kind: 'control_plane_failover',
        recoveries: 1,
        avg_rto_s: 60,
        max_rto_s: 60,
        target_s: null,
        within_target: null,
      },
      {
        recovery_kind: 'worker_recovery',
        recoveries: workers.length,
        avg_rto_s: workers.reduce((a, b) => a + b) / workers.length,
        max_rto_s: Math.max(...workers),
        target_s: 240,
        within_target: 0,
      },
    ])
  })
})

describe('SLA dashboard', () => {
  it("lists each customer's SLA metrics of the month against their targets, misses first", async () => {
    const got = await rows(sla, 'SLA metrics this month vs target')
    expect(got.map((r) => [r.customer_id, r.metric, r.value, r.target, r.met])).toEqual([
      ['acme', 'uptime', 99.5, 99.9, 0],
      ['globex', 'rto:worker_recovery', 300, 240, 0],
      ['acme', 'success_rate', 99.2, 99, 1],
      ['globex', 'rpo:telemetry', 30, 60, 1],
    ])
  })

  it("measures each customer's error budget against its plan target, or the fallback before there is one", async () => {
    const got = await rows(sla, 'Success-rate error budget this month', {
      variables: { success_target: '95' },
    })
    for (const [customer, objective] of [
      ['acme', 0.99],
      ['globex', 0.95],
    ] as const) {
      const mine = RUNS.filter((r) => r.customerId === customer && r.outcome !== 'cancelled')
      const failed = count(mine, (r) => r.outcome === 'failed')
      const row = got.find((r) => r.customer_id === customer)!
      expect(row.finished).toBe(mine.length)
      expect(row.objective).toBeCloseTo(objective, 12)
      expect(row.success_rate).toBeCloseTo(1 - failed / mine.length, 12)
      expect(row.budget_remaining).toBeCloseTo(1 - failed / (mine.length * (1 - objective)), 9)
      expect(row.burn_rate).toBeCloseTo(failed / mine.length / (1 - objective), 9)
    }
  })

  it('spends the factory uptime budget of the whole month with the down minutes so far', async () => {
    const [u] = await rows(sla, 'Factory uptime budget this month', { variables: { uptime_target: '99.9' } })
    const allowed = 0.001 * 31 * 1440
    const down = 2880 - UP_MINUTES
    expect(u.down_minutes).toBe(down)
    expect(u.allowed_down_minutes).toBeCloseTo(allowed, 9)
    expect(u.budget_remaining).toBeCloseTo(1 - down / allowed, 9)
    expect(u.burn_rate).toBeCloseTo(down / 2880 / 0.001, 9)
    expect(u.uptime).toBeCloseTo(UP_MINUTES / 2880, 12)
  })

  it("sums each customer's credit once (the 'credit' row), for closed months in the range only", async () => {
    const credits = SLA_ROWS.filter((r) => r.month === '2026-03-01' && r.metric === 'credit')
    expect(await rows(sla, 'Credits issued')).toEqual([
      { credits: credits.reduce((a, r) => a + r.credit_amount, 0) },
    ])
    expect(await rows(sla, 'Credits by customer and month')).toEqual([
      {
        month: '2026-03-01',
        customer_id: 'acme',
        closed: 1,
        breaches: 1,
        credit_percent: 10,
        credit_amount: 50,
        currency: 'USD',
      },
      {
        month: '2026-03-01',
        customer_id: 'globex',
        closed: 1,
        breaches: 1,
        credit_percent: 0,
        credit_amount: 0,
        currency: 'USD',
      },
    ])
  })
})
