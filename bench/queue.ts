// `npm run bench -- queue [--quick] [--n=N] [--concurrency=C] [--repeat=R]`: Steward's PostgreSQL queue against
// graphile-worker 0.16, side by side on the same PostgreSQL server at the same concurrency.
//
// 1. throughput: enqueue N noop jobs (Steward: one run of one step per job, through createRun, the
//    code behind POST /v1/runs; graphile-worker: addJob) with 8 concurrent producers while the
//    workers run, until all completed. Steward also takes leases, writes attempts and outbox events.
// 2. enqueue -> start latency: with idle workers, jobs enqueued one at a time; the handler measures
//    the time from just before the enqueue call to its own start (LISTEN/NOTIFY wake-up path).
// 3. POST /v1/runs over HTTP under concurrent load (autocannon) on a whole Steward.
// Prints the figures last as one JSON line.
import { mkdtempSync, rmSync } from 'node:fs'
import { availableParallelism, tmpdir } from 'node:os'
import { join } from 'node:path'
// @ts-expect-error autocannon ships no type declarations
import autocannon from 'autocannon'
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
  type OrchestratorConfig,
  orchestratorConfigSchema,
  Worker,
} from '../src/orchestrator/index.ts'
import { loadConfig, startSteward } from '../src/server/index.ts'

const log = createLogger('silent')
const opt = (args: string[], name: string, dflt: number) => {
  const a = args.find((x) => x.startsWith(`--${name}=`))
  return a ? Number(a.split('=')[1]) : dflt
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

async function benchSteward(pool: Pool, cfg: OrchestratorConfig, n: number, latencyN: number) {
  await pool.query(`INSERT INTO customers (id, name) VALUES ('bench', 'Bench') ON CONFLICT DO NOTHING`)
  const worker = new Worker({ pool, config: cfg, log, handlers })
  await worker.start()
  const t0 = performance.now()
  await produce(n, 8, () => createRun(pool, cfg, handlers, oneStep('noop', {})))
  await waitUntil(async () => {
    const { rows } = await pool.query(
      `SELECT count(*)::int AS n FROM jobs WHERE kind = 'noop' AND status = 'succeeded'`,
    )
    return rows[0].n >= n
  })
  const seconds = (performance.now() - t0) / 1000
  stampLatencies.length = 0
  for (let i = 0; i < latencyN; i++) {
    await createRun(pool, cfg, handlers, oneStep('bench.stamp', { t: now() }))
    await new Promise((r) => setTimeout(r, 5))
  }
  await waitUntil(async () => stampLatencies.length >= latencyN)
  await worker.stop(1000)
  return { jobsPerS: n / seconds, latencies: [...stampLatencies] }
}

async function benchGraphile(url: string, concurrency: number, n: number, latencyN: number) {
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
  const t0 = performance.now()
  await produce(n, 8, () => utils.addJob('noop', {}))
  await waitUntil(async () => {
    const { rows } = await pgPool.query(`SELECT count(*)::int AS n FROM graphile_worker.jobs`)
    return rows[0].n === 0
  })
  const seconds = (performance.now() - t0) / 1000
  for (let i = 0; i < latencyN; i++) {
    await utils.addJob('stamp', { t: now() })
    await new Promise((r) => setTimeout(r, 5))
  }
  await waitUntil(async () => latencies.length >= latencyN)
  await runner.stop()
  await pgPool.end()
  return { jobsPerS: n / seconds, latencies }
}

async function benchHttp(adminUrl: string, durationS: number, connections: number) {
  const dataDir = mkdtempSync(join(tmpdir(), 'steward-bench-'))
  const url = await createDatabase(adminUrl, 'steward_bench_http')
  const token = 'bench-admin-token-0123456789'
  const config = loadConfig(
    {
      DATABASE_URL: url,
      STEWARD_DATA_DIR: dataDir,
      STEWARD_ADMIN_TOKEN: token,
      PORT: '0',
      HOST: '127.0.0.1',
      LOG_LEVEL: 'silent',
    },
    { orchestrator: orchestratorConfigSchema.parse({ workers: 1, concurrency: 8 }) },
  )
  const steward = await startSteward({ config, log, scheduler: false })
  try {
    const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' }
    await fetch(`${steward.url}/v1/customers`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ id: 'bench', name: 'Bench' }),
    })
    const result = await autocannon({
      url: `${steward.url}/v1/runs`,
      method: 'POST',
      headers,
      body: JSON.stringify(oneStep('noop', {})),
      connections,
      duration: durationS,
    })
    return {
      requests_per_s: round(result.requests.average),
      p50_ms: result.latency.p50,
      p99_ms: result.latency.p99,
      non_2xx: result.non2xx,
      connections,
    }
  } finally {
    await steward.stop()
    rmSync(dataDir, { recursive: true, force: true })
  }
}

export async function run(args: string[]): Promise<void> {
  const quick = args.includes('--quick')
  const n = opt(args, 'n', quick ? 500 : 2_000)
  const concurrency = opt(args, 'concurrency', 8)
  const latencyN = quick ? 50 : 200
  const repeat = opt(args, 'repeat', quick ? 1 : 3)
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
      `queue: ${n} noop jobs x ${repeat}, concurrency ${concurrency}, ${availableParallelism()} cores\n`,
    )
    const stewardRates: number[] = []
    const graphileRates: number[] = []
    const stewardLat: number[] = []
    const graphileLat: number[] = []
    for (let i = 0; i < repeat; i++) {
      // Alternate which system goes first, so neither always meets a warmer (or busier) server.
      const order = i % 2 === 0 ? ['steward', 'graphile'] : ['graphile', 'steward']
      for (const system of order) {
        if (system === 'steward') {
          const pool = createPool(await createDatabase(adminUrl, 'steward_bench_queue'), {
            max: concurrency + 10,
          })
          await migrate({ pool, log })
          const st = await benchSteward(pool, cfg, n, latencyN)
          await pool.end()
          stewardRates.push(st.jobsPerS)
          stewardLat.push(...st.latencies)
        } else {
          const gw = await benchGraphile(
            await createDatabase(adminUrl, 'graphile_bench_queue'),
            concurrency,
            n,
            latencyN,
          )
          graphileRates.push(gw.jobsPerS)
          graphileLat.push(...gw.latencies)
        }
      }
      process.stdout.write(
        `round ${i + 1}: steward ${round(stewardRates[i]!)} jobs/s, graphile-worker ${round(graphileRates[i]!)} jobs/s\n`,
      )
    }
    const http = await benchHttp(adminUrl, quick ? 2 : 5, 10)
    process.stdout.write(`POST /v1/runs: p50 ${http.p50_ms} ms, p99 ${http.p99_ms} ms\n`)
    const stats = (xs: number[]) => ({
      min: round(Math.min(...xs)),
      median: round(median(xs)),
      max: round(Math.max(...xs)),
    })
    const line = {
      bench: 'queue',
      cores: availableParallelism(),
      n,
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
      post_runs: http,
    }
    process.stdout.write(`${JSON.stringify(line)}\n`)
  } finally {
    await embedded?.stop()
    if (dir) rmSync(dir, { recursive: true, force: true })
  }
}
