// `npm run bench -- queue [--quick] [--n=N] [--warm-up=W] [--jit-warm-up=J] [--concurrency=C] [--repeat=R] [--history N]`: Steward's PostgreSQL queue against
// graphile-worker 0.16, side by side on the same PostgreSQL server at the same concurrency.
//
// 1. throughput: enqueue N noop jobs (Steward: one run of one step per job, through createRun, the
//    code behind POST /v1/runs; graphile-worker: addJob) with 8 concurrent producers while the
//    workers run, until all completed. Steward also takes leases, writes attempts and outbox events.
//    pgbench, the reference in 4., reports a steady state (5 s, its connections' setup excluded),
//    and a round of 1,000 jobs lasts about half a second, so both queues are measured warm too:
//    - before the rounds, one round of J jobs (--jit-warm-up, default 4,000) per queue, not
//      counted: V8 optimises a queue's JavaScript only after thousands of jobs (measured, five
//      1,000-job rounds in one process: Steward's Node CPU per job 0.30, 0.27, 0.18, 0.15, 0.13 ms);
//    - in each round, on its fresh database, W jobs (--warm-up, default 200) first, not counted:
//      connections opened, statements planned.
//    --jit-warm-up 0 --warm-up 0 is the former method (every round from a cold start).
// 2. enqueue -> start latency: with idle workers, jobs enqueued one at a time; the handler measures
//    the time from just before the enqueue call to its own start (LISTEN/NOTIFY wake-up path).
//    After the burst of 1. and a VACUUM ANALYZE of the database (`settle`), for both queues.
// 3. with --history N: Steward again, on a database that holds N finished jobs (runs, jobs and
//    attempts as Steward leaves them): the claim path must not slow down with history.
// 4. the physical limit: `pgbench -N` (when on PATH) on the same PostgreSQL server at the same
//    concurrency; jobs per pgbench transaction says how close each queue gets to it.
// POST /v1/runs over HTTP is `npm run bench -- api` (its load generator in a process of its own).
// Prints the figures last as one JSON line.
import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { availableParallelism, tmpdir } from 'node:os'
import { join } from 'node:path'
import { run as runGraphile } from 'graphile-worker'
import pg from 'pg'
import { z } from 'zod'
import { migrate } from '../src/db/migrate.ts'
import { createPool, type Pool, startEmbeddedPostgres } from '../src/db/postgres.ts'
import { createEgressPolicy } from '../src/egress/index.ts'
import { createLogger } from '../src/log.ts'
import {
  createRun,
  defineHandler,
  handlerSet,
  historyTableSizes,
  type OrchestratorConfig,
  orchestratorConfigSchema,
  Worker,
} from '../src/orchestrator/index.ts'

const log = createLogger('silent')
/** `--name=N` or `--name N`. */
const opt = (args: string[], name: string, dflt: number) => {
  const a = args.find((x) => x.startsWith(`--${name}=`))
  if (a) return Number(a.split('=')[1])
  const i = args.indexOf(`--${name}`)
  return i >= 0 && args[i + 1] !== undefined ? Number(args[i + 1]) : dflt
}
const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b)
  return s.length ? Math.round(s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]! * 10) / 10 : 0
}
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b)
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2
}
const round = (x: number, d = 1) => Math.round(x * 10 ** d) / 10 ** d

async function createDatabase(adminUrl: string, name: string): Promise<string> {
  const c = new pg.Client({ connectionString: adminUrl })
  await c.connect()
  await c.query(`DROP DATABASE IF EXISTS ${name}`)
  await c.query(`CREATE DATABASE ${name}`)
  await c.end()
  const u = new URL(adminUrl)
  u.pathname = `/${name}`
  return u.toString()
}

async function waitUntil(check: () => Promise<boolean>): Promise<void> {
  while (!(await check())) await new Promise((r) => setTimeout(r, 20))
}

/** Runs `n` calls of `fn` with `parallel` in flight. */
async function produce(n: number, parallel: number, fn: (i: number) => Promise<unknown>): Promise<void> {
  let next = 0
  await Promise.all(
    Array.from({ length: parallel }, async () => {
      while (next < n) await fn(next++)
    }),
  )
}

/**
 * Between the burst and the latency phase, for both queues: the vacuum that autovacuum would run
 * in the next minute, done now, so the latency phase measures an idle system rather than that
 * cleanup competing for the cores (measured on 2 cores: Steward's p99 7-8 ms with autovacuum off,
 * 12-15 ms with it on and no settling). An ANALYZE makes every connection plan its statements
 * again (Steward's claim takes about 2.5 ms to plan): the first WARM_UP jobs after it are not
 * counted, for either queue.
 */
async function settle(db: { query: (sql: string) => Promise<unknown> }): Promise<void> {
  await db.query('VACUUM ANALYZE')
}

/** Latency samples not counted after `settle` (connections planning their statements again). */
const WARM_UP = 50
const stampLatencies: number[] = []
const stamp = defineHandler('bench.stamp', z.object({ t: z.number() }), (i) => {
  stampLatencies.push(performance.timeOrigin + performance.now() - i.t)
})
// The built-ins and this benchmark's kind; no step here makes an HTTP request.
const handlers = handlerSet(createEgressPolicy(), [stamp])
const now = () => performance.timeOrigin + performance.now()
const oneStep = (kind: string, input: unknown) => ({
  customerId: 'bench',
  projectId: 'bench',
  type: 'bench',
  priority: 0,
  steps: [{ key: 'x', kind, input }],
})

/** Creates `n` one-step noop runs with 8 producers and waits until they succeeded; returns the seconds. */
async function stewardBurst(pool: Pool, cfg: OrchestratorConfig, n: number): Promise<number> {
  // The runs of this burst: created from now on. (Not all succeeded noop jobs: with --history the
  // history's finished jobs would count, and the phase would end before its jobs ran.)
  const since = (await pool.query<{ at: Date }>('SELECT now() AS at')).rows[0]!.at
  const t0 = performance.now()
  await produce(n, 8, () => createRun(pool, cfg, handlers, oneStep('noop', {})))
  await waitUntil(async () => {
    const { rows } = await pool.query(
      `SELECT count(*)::int AS n FROM runs WHERE customer_id = 'bench' AND created_at >= $1 AND status = 'succeeded'`,
      [since],
    )
    return rows[0].n >= n
  })
  return (performance.now() - t0) / 1000
}

async function benchSteward(
  pool: Pool,
  cfg: OrchestratorConfig,
  n: number,
  warmUp: number,
  latencyN: number,
) {
  await pool.query(`INSERT INTO customers (id, name) VALUES ('bench', 'Bench') ON CONFLICT DO NOTHING`)
  const worker = new Worker({ pool, config: cfg, log, handlers })
  await worker.start()
  if (warmUp > 0) await stewardBurst(pool, cfg, warmUp)
  const seconds = await stewardBurst(pool, cfg, n)
  if (latencyN === 0) {
    await worker.stop(1000)
    return { jobsPerS: n / seconds, latencies: [] }
  }
  await settle(pool)
  stampLatencies.length = 0
  for (let i = 0; i < WARM_UP + latencyN; i++) {
    await createRun(pool, cfg, handlers, oneStep('bench.stamp', { t: now() }))
    await new Promise((r) => setTimeout(r, 5))
  }
  await waitUntil(async () => stampLatencies.length >= WARM_UP + latencyN)
  await worker.stop(1000)
  return { jobsPerS: n / seconds, latencies: stampLatencies.slice(WARM_UP) }
}

async function benchGraphile(url: string, concurrency: number, n: number, warmUp: number, latencyN: number) {
  const latencies: number[] = []
  const pgPool = new pg.Pool({ connectionString: url, max: concurrency + 10 })
  const runner = await runGraphile({
    pgPool,
    concurrency,
    noHandleSignals: true,
    pollInterval: 2_000,
    logger: new (await import('graphile-worker')).Logger(() => () => {}),
    taskList: {
      noop: async () => {},
      stamp: async (p) => {
        latencies.push(now() - (p as { t: number }).t)
      },
    },
  })
  const utils = runner
  /** Adds `n` noop jobs with 8 producers and waits until none is left; returns the seconds. */
  const burst = async (n: number) => {
    const t0 = performance.now()
    await produce(n, 8, () => utils.addJob('noop', {}))
    await waitUntil(async () => {
      const { rows } = await pgPool.query(`SELECT count(*)::int AS n FROM graphile_worker.jobs`)
      return rows[0].n === 0
    })
    return (performance.now() - t0) / 1000
  }
  if (warmUp > 0) await burst(warmUp)
  const seconds = await burst(n)
  if (latencyN === 0) {
    await runner.stop()
    await pgPool.end()
    return { jobsPerS: n / seconds, latencies: [] }
  }
  await settle(pgPool)
  for (let i = 0; i < WARM_UP + latencyN; i++) {
    await utils.addJob('stamp', { t: now() })
    await new Promise((r) => setTimeout(r, 5))
  }
  await waitUntil(async () => latencies.length >= WARM_UP + latencyN)
  await runner.stop()
  await pgPool.end()
  return { jobsPerS: n / seconds, latencies: latencies.slice(WARM_UP) }
}

/** The history of `n` finished one-job runs (run, job, attempt), as Steward leaves them, ANALYZEd. */
async function fillHistory(pool: Pool, n: number): Promise<void> {
  const slice = 100_000
  for (let from = 1; from <= n; from += slice) {
    const to = Math.min(n, from + slice - 1)
    const at = `now() - interval '10 days' + g * interval '1 ms'`
    await pool.query(
      `INSERT INTO runs (id, customer_id, project_id, type, status, created_at, started_at, finished_at,
                         jobs_total, jobs_succeeded)
       SELECT 'h-' || g, 'bench', 'bench', 'bench', 'succeeded', ${at}, ${at}, ${at}, 1, 1
       FROM generate_series($1::int, $2::int) g`,
      [from, to],
    )
    await pool.query(
      `INSERT INTO jobs (id, run_id, customer_id, project_id, run_type, step_key, kind, pool, max_attempts,
                         backoff_ms, status, attempt, run_at, started_at, finished_at, created_at, output)
       SELECT 'hj-' || g, 'h-' || g, 'bench', 'bench', 'bench', 'x', 'noop', 'default', 4, 1000, 'succeeded',
              1, ${at}, ${at}, ${at}, ${at}, '{}'
       FROM generate_series($1::int, $2::int) g`,
      [from, to],
    )
    await pool.query(
      `INSERT INTO job_attempts (job_id, attempt, kind, worker_id, started_at, finished_at, outcome, duration_ms)
       SELECT 'hj-' || g, 1, 'noop', 'bench-w', ${at}, ${at}, 'succeeded', 1 FROM generate_series($1::int, $2::int) g`,
      [from, to],
    )
  }
  await pool.query('VACUUM ANALYZE runs, jobs, job_attempts')
}

/** `pgbench -N` (TPC-B without the hot branch/teller updates) on the same server at the same
 *  concurrency: the durable-commit rate this PostgreSQL allows, the physical limit of any queue on it.
 *  Undefined when pgbench is not on PATH. */
function pgbenchTps(url: string, clients: number, seconds: number): number | undefined {
  if (spawnSync('pgbench', ['--version']).status !== 0) return undefined
  const init = spawnSync('pgbench', ['-i', '-q', '-s', '1', url], { encoding: 'utf8' })
  if (init.status !== 0) throw new Error(`pgbench -i failed: ${init.stderr}`)
  const res = spawnSync(
    'pgbench',
    ['-N', '-c', String(clients), '-j', String(Math.min(clients, 2)), '-T', String(seconds), url],
    { encoding: 'utf8' },
  )
  const tps = /tps = ([\d.]+)/.exec(res.stdout ?? '')
  if (res.status !== 0 || !tps) throw new Error(`pgbench -N failed: ${res.stderr}`)
  return Number(tps[1])
}

export async function run(args: string[]): Promise<void> {
  const quick = args.includes('--quick')
  const n = opt(args, 'n', quick ? 500 : 1_000)
  const warmUp = opt(args, 'warm-up', quick ? 100 : 200)
  const jitWarmUp = opt(args, 'jit-warm-up', quick ? 1_000 : 4_000)
  const concurrency = opt(args, 'concurrency', 8)
  const latencyN = quick ? 50 : 200
  const repeat = opt(args, 'repeat', quick ? 1 : 2)
  const history = opt(args, 'history', 0)
  let embedded: Awaited<ReturnType<typeof startEmbeddedPostgres>> | undefined
  let dir: string | undefined
  let adminUrl = process.env.DATABASE_URL
  if (!adminUrl) {
    dir = mkdtempSync(join(tmpdir(), 'steward-bench-pg-'))
    embedded = await startEmbeddedPostgres(dir, log)
    adminUrl = embedded.url
  }
  try {
    const cfg = orchestratorConfigSchema.parse({ concurrency })
    process.stdout.write(
      `queue: ${n} noop jobs (after ${warmUp} not counted) x ${repeat}, after a round of ${jitWarmUp} not counted, concurrency ${concurrency}, ${availableParallelism()} cores\n`,
    )
    // With --history N: Steward also runs on a database holding N finished jobs (filled once).
    let historyPool: Pool | undefined
    if (history > 0) {
      historyPool = createPool(await createDatabase(adminUrl, 'steward_bench_history'), {
        max: concurrency + 10,
      })
      await migrate({ pool: historyPool, log })
      await historyPool.query(`INSERT INTO customers (id, name) VALUES ('bench', 'Bench')`)
      const t0 = performance.now()
      await fillHistory(historyPool, history)
      process.stdout.write(
        `history: ${history} finished jobs in ${round((performance.now() - t0) / 1000)} s\n`,
      )
    }
    const historyRates: number[] = []
    const stewardRates: number[] = []
    const graphileRates: number[] = []
    const stewardLat: number[] = []
    const graphileLat: number[] = []
    const stewardRound = async (jobs: number, latency: number) => {
      const pool = createPool(await createDatabase(adminUrl, 'steward_bench_queue'), {
        max: concurrency + 10,
      })
      await migrate({ pool, log })
      const st = await benchSteward(pool, cfg, jobs, warmUp, latency)
      await pool.end()
      return st
    }
    const graphileRound = async (jobs: number, latency: number) =>
      benchGraphile(
        await createDatabase(adminUrl, 'graphile_bench_queue'),
        concurrency,
        jobs,
        warmUp,
        latency,
      )
    if (jitWarmUp > 0) {
      await stewardRound(jitWarmUp, 0)
      await graphileRound(jitWarmUp, 0)
    }
    for (let i = 0; i < repeat; i++) {
      // Alternate which system goes first, so neither always meets a warmer (or busier) server.
      const order = i % 2 === 0 ? ['steward', 'graphile'] : ['graphile', 'steward']
      for (const system of order) {
        if (system === 'steward') {
          const st = await stewardRound(n, latencyN)
          stewardRates.push(st.jobsPerS)
          stewardLat.push(...st.latencies)
        } else {
          const gw = await graphileRound(n, latencyN)
          graphileRates.push(gw.jobsPerS)
          graphileLat.push(...gw.latencies)
        }
      }
      if (historyPool) historyRates.push((await benchSteward(historyPool, cfg, n, warmUp, latencyN)).jobsPerS)
      process.stdout.write(
        `round ${i + 1}: steward ${round(stewardRates[i]!)} jobs/s, graphile-worker ${round(graphileRates[i]!)} jobs/s` +
          (historyPool ? `, steward with history ${round(historyRates[i]!)} jobs/s` : '') +
          '\n',
      )
    }
    // What N finished jobs weigh on disk (the figures /metrics shows as steward_table_*).
    const historySizes = historyPool ? await historyTableSizes(historyPool) : []
    await historyPool?.end()
    const tps = pgbenchTps(
      await createDatabase(adminUrl, 'pgbench_bench'),
      concurrency,
      opt(args, 'pgbench-seconds', quick ? 3 : 5),
    )
    process.stdout.write(tps ? `pgbench -N: ${round(tps)} TPS\n` : 'pgbench not on PATH: no reference\n')
    const stats = (xs: number[]) => ({
      min: round(Math.min(...xs)),
      median: round(median(xs)),
      max: round(Math.max(...xs)),
    })
    const line = {
      bench: 'queue',
      cores: availableParallelism(),
      n,
      warm_up: warmUp,
      jit_warm_up: jitWarmUp,
      concurrency,
      repeat,
      steward_jobs_per_s: round(median(stewardRates)),
      graphile_worker_jobs_per_s: round(median(graphileRates)),
      ratio: round(median(stewardRates) / median(graphileRates), 2),
      steward_jobs_per_s_range: stats(stewardRates),
      graphile_worker_jobs_per_s_range: stats(graphileRates),
      start_latency_ms: { p50: pct(stewardLat, 50), p99: pct(stewardLat, 99), max: pct(stewardLat, 100) },
      graphile_start_latency_ms: {
        p50: pct(graphileLat, 50),
        p99: pct(graphileLat, 99),
        max: pct(graphileLat, 100),
      },
      ...(history > 0
        ? {
            history_jobs: history,
            steward_with_history_jobs_per_s: round(median(historyRates)),
            steward_with_history_jobs_per_s_range: stats(historyRates),
            history_ratio: round(median(historyRates) / median(stewardRates), 2),
            history_mib: Object.fromEntries(historySizes.map((t) => [t.table, round(t.bytes / 2 ** 20)])),
          }
        : {}),
      pgbench_n_tps: tps === undefined ? null : round(tps),
      steward_jobs_per_pgbench_tx: tps ? round(median(stewardRates) / tps, 2) : null,
      graphile_worker_jobs_per_pgbench_tx: tps ? round(median(graphileRates) / tps, 2) : null,
    }
    process.stdout.write(`${JSON.stringify(line)}\n`)
  } finally {
    await embedded?.stop()
    if (dir) rmSync(dir, { recursive: true, force: true })
  }
}
