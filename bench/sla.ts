// `npm run bench -- sla [--quick] [--sizes=1000000,10000000] [--repeat=3]`: the SLA monthly close
// over a month of N telemetry events, and the same figures computed by scanning raw events.
//
// Events are generated inside ClickHouse (INSERT ... SELECT FROM numbers(N)) into `events`, so the
// materialized views fill the rollups exactly as for relayed telemetry: 20% control-plane
// heartbeats, 20% run events (each the only final event of its run: 2M runs at 10M events), 40%
// job events, 10% usage, 10% probes, over 50 customers.
// Reported per size: ingest time, the figure computation from rollups vs from raw events
// (min/median/max of --repeat runs), their ratio, the full close (figures + records + sla_monthly),
// and the growth from the smallest to the largest size. The figures of both paths are compared.
import { mkdtempSync, rmSync } from 'node:fs'
import { availableParallelism, tmpdir } from 'node:os'
import { join } from 'node:path'
import { type ClickHouseClient, chQuery, openClickHouse } from '../src/db/clickhouse.ts'
import { migrate } from '../src/db/migrate.ts'
import { createPool, startEmbeddedPostgres } from '../src/db/postgres.ts'
import { createLogger } from '../src/log.ts'
import { priceListSchema } from '../src/pricing/index.ts'
import { slaConfigSchema } from '../src/sla/config.ts'
import { closeMonth, computeMonth, type SlaContext } from '../src/sla/index.ts'
import { parseMonth } from '../src/sla/months.ts'
import { customerDirectory } from '../src/tenants/index.ts'

const CUSTOMERS = 50

function option(args: string[], name: string): string | undefined {
  const hit = args.find((a) => a.startsWith(`--${name}=`))
  return hit?.slice(name.length + 3)
}

const GENERATE = `
INSERT INTO events (event_id, type, action, ts, customer_id, project_id, run_type, run_id, job_id, kind, pool,
                    component, instance_id, attempt, error_class, duration_ms, model, input_tokens, output_tokens, ok, target)
SELECT
  concat({tag:String}, '-', toString(number)) AS event_id,
  multiIf(k < 2, 'heartbeat', k < 4, 'run', k < 8, 'job', k < 9, 'usage', 'probe') AS type,
  multiIf(type = 'run', ['created', 'succeeded', 'succeeded', 'failed', 'cancelled'][number % 5 + 1],
          type = 'job', ['started', 'succeeded', 'retried', 'failed'][number % 4 + 1], '') AS action,
  toDateTime64({start:UInt32}, 3, 'UTC') + toIntervalMillisecond(intDiv(number * {spanMs:UInt64}, {n:UInt64})) AS ts,
  if(type IN ('heartbeat', 'probe'), '', concat('c', toString(number % {customers:UInt32}))) AS customer_id,
  concat('p', toString(number % 3)) AS project_id,
  if(type IN ('run', 'job', 'usage'), ['build', 'test', 'deploy'][number % 3 + 1], '') AS run_type,
  if(type IN ('run', 'job', 'usage'), concat('r', toString(intDiv(number, 20))), '') AS run_id,
  if(type = 'job', concat('j', toString(intDiv(number, 4))), '') AS job_id,
  if(type = 'job', 'simulate', '') AS kind,
  if(type IN ('job', 'usage'), ['default', 'gpu'][number % 2 + 1], '') AS pool,
  if(type = 'heartbeat', 'control_plane', '') AS component,
  if(type = 'heartbeat', 'cp-1', '') AS instance_id,
  if(type = 'job', 1, 0) AS attempt,
  if(action IN ('failed', 'retried'), ['transient', 'agent', 'infrastructure', 'validation'][number % 4 + 1], '') AS error_class,
  multiIf(type = 'run' AND action != 'created', toFloat64((number % 1000) * 100),
          type = 'job' AND action != 'started', toFloat64((number % 500) * 10), 0.) AS duration_ms,
  if(type = 'usage', ['model-a', 'model-b'][number % 2 + 1], '') AS model,
  if(type = 'usage', number % 5000, 0) AS input_tokens,
  if(type = 'usage', number % 1000, 0) AS output_tokens,
  multiIf(type = 'probe', toUInt8(number % 997 != 0), type = 'heartbeat', 1, 0) AS ok,
  if(type = 'probe', 'api', '') AS target
FROM (SELECT number, number % 10 AS k FROM numbers({n:UInt64}))`

const TABLES = [
  'events',
  'signals_1m',
  'health_1m',
  'runs_1h',
  'run_finals',
  'run_resumes',
  'jobs_1h',
  'usage_1h',
  'api_1m',
  'sla_monthly',
]

const stats = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b)
  const r = (x: number) => Math.round(x * 1000) / 1000
  return { min: r(s[0]!), median: r(s[Math.floor(s.length / 2)]!), max: r(s.at(-1)!) }
}

async function timed<T>(fn: () => Promise<T>): Promise<[T, number]> {
  const t0 = performance.now()
  const v = await fn()
  return [v, (performance.now() - t0) / 1000]
}

/** Waits until no background merge runs (at most `limit` seconds); the seconds waited. */
async function settled(ch: ClickHouseClient, limit: number): Promise<number> {
  const t0 = performance.now()
  while (performance.now() - t0 < limit * 1000) {
    const [row] = await chQuery<{ n: number }>(ch, 'SELECT count() AS n FROM system.merges')
    if (!Number(row?.n)) break
    await new Promise((resolve) => setTimeout(resolve, 500))
  }
  return Math.round(performance.now() - t0) / 1000
}

export async function run(args: string[]): Promise<void> {
  const quick = args.includes('--quick')
  const sizes = (option(args, 'sizes') ?? (quick ? '100000,1000000' : '1000000,10000000'))
    .split(',')
    .map((s) => Math.round(Number(s)))
  const repeat = Number(option(args, 'repeat') ?? 3)
  const log = createLogger('warn')
  const dir = mkdtempSync(join(tmpdir(), 'steward-bench-sla-'))
  // Its own temp dir: running as root, postgres must be able to traverse into it.
  const pgDir = mkdtempSync(join(tmpdir(), 'steward-bench-sla-pg-'))
  const pgServer = process.env.DATABASE_URL ? undefined : await startEmbeddedPostgres(pgDir, log)
  const pool = createPool(process.env.DATABASE_URL ?? pgServer!.url, { max: 10 })
  const ch = await openClickHouse({ url: process.env.CLICKHOUSE_URL, path: join(dir, 'ch') })
  const results: Record<string, unknown>[] = []
  try {
    await migrate({ pool, clickhouse: ch.client, log })
    const ids = Array.from({ length: CUSTOMERS }, (_, i) => `c${i}`)
    for (const id of ids) {
      await pool.query(
        `INSERT INTO customers (id, name, created_at) VALUES ($1, $1, '2020-01-01') ON CONFLICT (id) DO NOTHING`,
        [id],
      )
    }
    const ctx: SlaContext = {
      pool,
      ch: ch.client,
      tenants: customerDirectory(pool),
      config: slaConfigSchema.parse({
        defaultPlan: { monthlyFee: 1000, executionTime: { build: { targetMs: 60_000 } } },
      }),
      prices: priceListSchema.parse({
        models: [
          { model: 'model-a', effectiveFrom: '2020-01-01', inputPerMillion: 3, outputPerMillion: 15 },
          { model: 'model-b', effectiveFrom: '2020-01-01', inputPerMillion: 1, outputPerMillion: 5 },
        ],
        pools: [
          { pool: 'default', effectiveFrom: '2020-01-01', perWorkerSecond: 0.0001 },
          { pool: 'gpu', effectiveFrom: '2020-01-01', perWorkerSecond: 0.001 },
        ],
      }),
    }
    for (const [i, n] of sizes.entries()) {
      for (const t of TABLES) await ch.client.command({ query: `TRUNCATE TABLE IF EXISTS ${t}` })
      const month = parseMonth(`2025-${String(i + 1).padStart(2, '0')}`)
      process.stdout.write(`size ${n}: generating ${month.key}...\n`)
      const [, ingestSeconds] = await timed(() =>
        ch.client.command({
          query: GENERATE,
          query_params: {
            tag: `b${i}`,
            start: month.start.getTime() / 1000,
            spanMs: month.minutes * 60_000,
            n,
            customers: CUSTOMERS,
          },
          clickhouse_settings: { max_insert_block_size: '1048576' },
        }),
      )
      const rollup: number[] = []
      const raw: number[] = []
      let agree = true
      // The background merges the ingest started finish first (at most 2 minutes), as they have
      // long before a month closes: timed queries do not compete with them, on either path.
      const settleSeconds = await settled(ch.client, 120)
      // One untimed pass of each path first (query compilation, caches).
      await computeMonth(ctx, month, ids, { source: 'rollup' })
      await computeMonth(ctx, month, ids, { source: 'raw' })
      for (let r = 0; r < repeat; r++) {
        const [a, ta] = await timed(() => computeMonth(ctx, month, ids, { source: 'rollup' }))
        const [b, tb] = await timed(() => computeMonth(ctx, month, ids, { source: 'raw' }))
        rollup.push(ta)
        raw.push(tb)
        const strip = (f: typeof a) => JSON.stringify(f.customers.map(({ computedAt, source, ...x }) => x))
        agree &&= strip(a) === strip(b)
      }
      const [closed, closeSeconds] = await timed(() => closeMonth(ctx, month, new Date()))
      const entry = {
        events: n,
        month: month.key,
        customers: CUSTOMERS,
        ingestSeconds: Math.round(ingestSeconds * 1000) / 1000,
        mergesSettledSeconds: settleSeconds,
        figuresRollupSeconds: stats(rollup),
        figuresRawSeconds: stats(raw),
        rawOverRollup: Math.round((stats(raw).median / stats(rollup).median) * 100) / 100,
        closeSeconds: Math.round(closeSeconds * 1000) / 1000,
        issued: closed.issued,
        figuresAgree: agree,
      }
      process.stdout.write(`${JSON.stringify(entry)}\n`)
      results.push(entry)
    }
  } finally {
    await ch.close()
    await pool.end()
    await pgServer?.stop()
    rmSync(dir, { recursive: true, force: true })
    rmSync(pgDir, { recursive: true, force: true })
  }
  const first = results[0] as {
    events: number
    figuresRollupSeconds: { median: number }
    figuresRawSeconds: { median: number }
    closeSeconds: number
  }
  const last = results.at(-1) as typeof first
  process.stdout.write(
    `${JSON.stringify({
      bench: 'sla',
      cores: availableParallelism(),
      repeat,
      sizes: results,
      growth: {
        events: last.events / first.events,
        rollupFigures:
          Math.round((last.figuresRollupSeconds.median / first.figuresRollupSeconds.median) * 100) / 100,
        rawFigures: Math.round((last.figuresRawSeconds.median / first.figuresRawSeconds.median) * 100) / 100,
        close: Math.round((last.closeSeconds / first.closeSeconds) * 100) / 100,
      },
    })}\n`,
  )
}
