// `npm run bench -- fairness [--quick] [--flood=N] [--sleep-ms=MS] [--quiet-runs=N] [--rate=R]
// [--workers=W] [--concurrency=C] [--headroom=H]`: one customer's flood must not delay another's
// runs. The scenario runs twice, side by side: every slot open to anyone (headroomSlots 0, the
// default), then with H slots per worker kept for customers with nothing running (default 1).
//
// W `steward worker` processes (C slots each, like `serve --workers 2`) serve the pool `default`.
// This process is the load: a quiet customer submits one-step noop runs at R per second, first on
// the idle pool, then while a noisy customer's backlog of N `sleep` jobs at priority 1000 (runs
// of 100 parallel steps, created before the quiet runs) keeps every slot busy. A quiet job's
// enqueue→start is measured in PostgreSQL, on one clock: from its run's creation (the start of the
// createRun transaction) to the claim that starts it (`jobs.started_at`, clock_timestamp()).
//
// Prints the quiet customer's p50/p99 idle and under the flood, the ratios (goal: p99 under the
// flood ≤ 2x idle; a busy slot must free first, so under the flood a quiet job waits for the
// shortest remaining sleep of C x W), and the noisy backlog left when the last quiet run started
// (the flood was still on), as one JSON line.
import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { availableParallelism, tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import pg from 'pg'
import { migrate } from '../src/db/migrate.ts'
import { createPool, type Pool, startEmbeddedPostgres } from '../src/db/postgres.ts'
import { createEgressPolicy } from '../src/egress/index.ts'
import { createLogger } from '../src/log.ts'
import { createRun, handlerSet, orchestratorConfigSchema } from '../src/orchestrator/index.ts'

const log = createLogger('silent')
const stewardBin = fileURLToPath(new URL('../bin/steward.js', import.meta.url))
const handlers = handlerSet(createEgressPolicy(), [])
const cfg = orchestratorConfigSchema.parse({})
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
const round = (x: number, d = 1) => Math.round(x * 10 ** d) / 10 ** d
const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b)
  return s.length ? round(s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!) : 0
}

async function waitUntil(check: () => Promise<boolean>, what: string, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await sleep(20)
  }
}

async function freshDatabase(adminUrl: string): Promise<string> {
  const c = new pg.Client({ connectionString: adminUrl })
  await c.connect()
  await c.query('DROP DATABASE IF EXISTS steward_bench_fairness')
  await c.query('CREATE DATABASE steward_bench_fairness')
  await c.end()
  const u = new URL(adminUrl)
  u.pathname = '/steward_bench_fairness'
  return u.toString()
}

const runOf = (customerId: string, priority: number, steps: { key: string; kind: string; input: object }[]) =>
  ({ customerId, projectId: 'bench', type: 'bench', priority, steps }) as Parameters<typeof createRun>[3]

/** Submits `n` quiet runs at `rate` per second; returns their run ids. */
async function quietRuns(db: Pool, n: number, rate: number): Promise<string[]> {
  const ids: string[] = []
  const t0 = performance.now()
  for (let i = 0; i < n; i++) {
    const due = t0 + (i * 1000) / rate
    if (due > performance.now()) await sleep(due - performance.now())
    ids.push(
      (await createRun(db, cfg, handlers, runOf('quiet', 0, [{ key: 'x', kind: 'noop', input: {} }]))).id,
    )
  }
  return ids
}

/** Enqueue→start (ms) of the jobs of these runs, once all have started. */
async function startLatencies(db: Pool, runIds: string[]): Promise<number[]> {
  const q = `SELECT extract(epoch FROM j.started_at - r.created_at) * 1000 AS ms
             FROM jobs j JOIN runs r ON r.id = j.run_id WHERE j.run_id = ANY($1) AND j.started_at IS NOT NULL`
  await waitUntil(
    async () => (await db.query(q, [runIds])).rowCount === runIds.length,
    'the quiet runs to start',
  )
  return (await db.query<{ ms: string }>(q, [runIds])).rows.map((r) => Number(r.ms))
}

interface Scenario {
  url: string
  workerCount: number
  concurrency: number
  headroom: number
  flood: number
  sleepMs: number
  quietN: number
  rate: number
}

/** One measurement: W worker processes with `headroom` slots each; the quiet runs idle, then under the flood. */
async function measure(o: Scenario) {
  const db = createPool(o.url, { max: 8 })
  const workers: ChildProcess[] = []
  const configDir = mkdtempSync(join(tmpdir(), 'steward-bench-fair-config-'))
  const configFile = join(configDir, 'steward.json')
  writeFileSync(configFile, JSON.stringify({ orchestrator: { headroomSlots: o.headroom } }))
  const slots = o.workerCount * o.concurrency
  try {
    await migrate({ pool: db, log })
    await db.query(`INSERT INTO customers (id, name) VALUES ('noisy', 'Noisy'), ('quiet', 'Quiet')`)
    for (let i = 0; i < o.workerCount; i++) {
      const child = spawn(process.execPath, [stewardBin, 'worker', '--concurrency', String(o.concurrency)], {
        env: { ...process.env, DATABASE_URL: o.url, LOG_LEVEL: 'warn', STEWARD_CONFIG: configFile },
        stdio: ['ignore', 'ignore', 'pipe'],
      })
      let errors = ''
      child.stderr?.on('data', (d) => {
        errors += d
      })
      child.on('exit', (code) => {
        if (code) process.stderr.write(`worker exited ${code}: ${errors}\n`)
      })
      workers.push(child)
    }
    await waitUntil(
      async () =>
        (await db.query(`SELECT count(*)::int AS n FROM workers WHERE status = 'live'`)).rows[0].n ===
        o.workerCount,
      'the workers to register',
    )
    // One untimed quiet run (connections, statement plans).
    await startLatencies(db, await quietRuns(db, 3, o.rate))

    const idle = await startLatencies(db, await quietRuns(db, o.quietN, o.rate))
    for (let i = 0; i < o.flood; i += 100) {
      const steps = Array.from({ length: Math.min(100, o.flood - i) }, (_, k) => ({
        key: `s${k}`,
        kind: 'sleep',
        input: { ms: o.sleepMs },
      }))
      await createRun(db, cfg, handlers, runOf('noisy', 1000, steps))
    }
    // Every slot the noisy customer may hold is busy (with headroom, one per worker stays free).
    const noisySlots = slots - o.workerCount * Math.min(o.headroom, o.concurrency - 1)
    await waitUntil(
      async () =>
        (await db.query(`SELECT count(*)::int AS n FROM jobs WHERE status = 'running'`)).rows[0].n >=
        noisySlots,
      'the flood to fill its slots',
    )
    const flooded = await startLatencies(db, await quietRuns(db, o.quietN, o.rate))
    const backlog = (
      await db.query(`SELECT count(*)::int AS n FROM jobs WHERE customer_id = 'noisy' AND status = 'queued'`)
    ).rows[0].n as number
    // The flood is not waited for: cancel what is left so the workers stop quickly.
    await db.query(`UPDATE jobs SET status = 'cancelled' WHERE customer_id = 'noisy' AND status = 'queued'`)
    const figures = {
      headroom_slots: o.headroom,
      idle_ms: { p50: pct(idle, 50), p99: pct(idle, 99) },
      flood_ms: { p50: pct(flooded, 50), p99: pct(flooded, 99) },
      ratio_p50: round(pct(flooded, 50) / pct(idle, 50), 2),
      ratio_p99: round(pct(flooded, 99) / pct(idle, 99), 2),
      goal_p99_at_most_2x_idle: pct(flooded, 99) <= 2 * pct(idle, 99),
      noisy_slots: noisySlots,
      noisy_backlog_when_quiet_started: backlog,
    }
    process.stdout.write(
      `headroom ${o.headroom}: idle p50 ${figures.idle_ms.p50} / p99 ${figures.idle_ms.p99} ms; ` +
        `flood p50 ${figures.flood_ms.p50} / p99 ${figures.flood_ms.p99} ms; ratio p50 ${figures.ratio_p50}, ` +
        `p99 ${figures.ratio_p99} (noisy on ${noisySlots} of ${slots} slots, backlog left ${backlog})\n`,
    )
    return figures
  } finally {
    for (const w of workers) w.kill('SIGTERM')
    await Promise.all(workers.map((w) => new Promise((r) => (w.exitCode !== null ? r(0) : w.on('exit', r)))))
    await db.end()
    rmSync(configDir, { recursive: true, force: true })
  }
}

export async function run(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv.filter((a) => a !== 'fairness'),
    options: {
      quick: { type: 'boolean', default: false },
      flood: { type: 'string' },
      'sleep-ms': { type: 'string' },
      'quiet-runs': { type: 'string' },
      rate: { type: 'string' },
      workers: { type: 'string' },
      concurrency: { type: 'string' },
      headroom: { type: 'string' },
    },
    allowPositionals: true,
    strict: false,
  })
  const flood = Number(values.flood ?? 1600)
  const sleepMs = Number(values['sleep-ms'] ?? 100)
  const quietN = Number(values['quiet-runs'] ?? (values.quick ? 30 : 60))
  const rate = Number(values.rate ?? 10)
  const workerCount = Number(values.workers ?? 2)
  const concurrency = Number(values.concurrency ?? 4)
  const headroom = Number(values.headroom ?? 1)
  const slots = workerCount * concurrency
  if (flood * sleepMs < slots * (quietN / rate) * 1000 * 1.5)
    process.stderr.write('warning: the flood may drain before the quiet runs are all submitted\n')

  let dir: string | undefined
  let embedded: Awaited<ReturnType<typeof startEmbeddedPostgres>> | undefined
  let adminUrl = process.env.DATABASE_URL
  if (!adminUrl) {
    dir = mkdtempSync(join(tmpdir(), 'steward-bench-fair-'))
    embedded = await startEmbeddedPostgres(dir, log)
    adminUrl = embedded.url
  }
  try {
    process.stdout.write(
      `fairness: ${workerCount} workers x ${concurrency} slots, flood ${flood} sleep ${sleepMs} ms jobs, ` +
        `${quietN} quiet runs at ${rate}/s, without headroom and with ${headroom} slot(s) per worker, ` +
        `${availableParallelism()} cores\n`,
    )
    const base = { workerCount, concurrency, flood, sleepMs, quietN, rate }
    // The same scenario on a fresh database each: every slot open to anyone, then with headroom.
    const without = await measure({ ...base, url: await freshDatabase(adminUrl), headroom: 0 })
    const withHeadroom = await measure({ ...base, url: await freshDatabase(adminUrl), headroom })
    process.stdout.write(
      `${JSON.stringify({
        bench: 'fairness',
        cores: availableParallelism(),
        workers: workerCount,
        concurrency,
        flood_jobs: flood,
        flood_sleep_ms: sleepMs,
        quiet_runs: quietN,
        quiet_rate_per_s: rate,
        without_headroom: without,
        with_headroom: withHeadroom,
      })}\n`,
    )
  } finally {
    await embedded?.stop()
    if (dir) rmSync(dir, { recursive: true, force: true })
  }
}
