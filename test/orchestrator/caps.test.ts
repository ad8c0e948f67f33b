// Concurrency caps: a customer's running jobs in a pool (`concurrency.perPool`) and in one run
// (`concurrency.perRun`) never exceed its caps, while several in-process workers and a separate
// `steward worker` process claim at once; a customer without caps is not held back by them.
import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { claimIn } from '../../src/orchestrator/claim.ts'
import { startTestSteward, type TestSteward } from '../helpers/app.ts'
import { createTestDatabaseUrl } from '../helpers/db.ts'
import { fastConfig, run, submit, waitForRun } from './helpers.ts'

let s: TestSteward
let child: ChildProcess | undefined
let dbUrl: string

function startWorkerProcess(configFile: string, dataDir: string): Promise<ChildProcess> {
  const c = spawn(process.execPath, ['bin/steward.js', 'worker', '--pool', 'default', '--concurrency', '4'], {
    cwd: join(import.meta.dirname, '..', '..'),
    env: { ...process.env, DATABASE_URL: dbUrl, STEWARD_DATA_DIR: dataDir, STEWARD_CONFIG: configFile },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  return new Promise((resolve, reject) => {
    let out = ''
    c.stdout!.on('data', (d) => {
      out += d
      if (out.includes('serving pool')) resolve(c)
    })
    c.stderr!.on('data', (d) => (out += d))
    c.once('exit', (code) => reject(new Error(`worker exited early (${code}): ${out}`)))
  })
}

const timings = { leaseMs: 5_000, heartbeatMs: 500, pollMs: 100, reclaimEveryMs: 500 }

beforeAll(async () => {
  dbUrl = await createTestDatabaseUrl()
  const dataDir = mkdtempSync(join(tmpdir(), 'steward-caps-'))
  const configFile = join(dataDir, 'worker.json')
  writeFileSync(configFile, JSON.stringify({ orchestrator: timings }))
  // Three in-process workers of 4 slots, and a worker process of 4: 16 slots claiming at once.
  s = await startTestSteward({
    databaseUrl: dbUrl,
    // noop runs in pool 'race', which no worker serves: only a test's own claims take its jobs.
    file: {
      orchestrator: fastConfig({ ...timings, workers: 3, concurrency: 4, kindPools: { noop: 'race' } }),
    },
  })
  for (const id of ['capped', 'free'])
    expect((await s.api('POST', '/v1/customers', { id, name: id })).status).toBe(201)
  const patched = await s.api('PATCH', '/v1/customers/capped', {
    settings: { concurrency: { perPool: { default: 3 }, perRun: 2 } },
  })
  expect(patched.status).toBe(200)
  child = await startWorkerProcess(configFile, dataDir)
})
afterAll(async () => {
  child?.kill('SIGKILL')
  await s?.stop()
})

/** The most attempts of `customerId` that overlapped in time, overall and within one run. */
async function mostAtOnce(customerId: string): Promise<{ pool: number; run: number }> {
  const { rows } = await s.deps.pool.query<{ pool: number; run: number }>(
    `WITH a AS (
       SELECT j.run_id, a.started_at AS t0, a.finished_at AS t1 FROM job_attempts a
       JOIN jobs j ON j.id = a.job_id WHERE j.customer_id = $1
     ), edges AS (
       SELECT run_id, t0 AS t, 1 AS d FROM a UNION ALL SELECT run_id, t1, -1 FROM a
     )
     SELECT (SELECT max(n) FROM (SELECT sum(d) OVER (ORDER BY t, d) AS n FROM edges) x)::int AS pool,
            (SELECT max(n) FROM (SELECT sum(d) OVER (PARTITION BY run_id ORDER BY t, d) AS n FROM edges) x)::int AS run`,
    [customerId],
  )
  return rows[0]!
}

describe('concurrency caps', () => {
  it("never runs more of a capped customer's jobs than its caps allow, across workers and processes", async () => {
    // Each step fails twice first: a failure frees a slot with no claim in its transaction, and
    // wakes every idle worker at once (the re-queue's NOTIFY): claims race for the freed slot.
    const steps = (n: number) =>
      Array.from({ length: n }, (_, i) => ({
        key: `s${i}`,
        kind: 'simulate',
        input: { durationMs: 5, failTimes: 2 },
        retry: { maxAttempts: 4, backoffMs: 0 },
      }))
    const ids: string[] = []
    for (let i = 0; i < 4; i++) ids.push(await submit(s, run(steps(10), { customerId: 'capped' })))
    ids.push(await submit(s, run(steps(40), { customerId: 'free' })))
    // Sample the running counts while the runs execute.
    const samples = { pool: 0, run: 0, free: 0 }
    let done = false
    const sampler = (async () => {
      while (!done) {
        const { rows } = await s.deps.pool.query<{ pool: number; run: number; free: number }>(
          `SELECT count(*) FILTER (WHERE customer_id = 'capped')::int AS pool,
                  coalesce(max(per_run) FILTER (WHERE customer_id = 'capped'), 0)::int AS run,
                  count(*) FILTER (WHERE customer_id = 'free')::int AS free
           FROM (SELECT customer_id, count(*) OVER (PARTITION BY run_id) AS per_run
                 FROM jobs WHERE status = 'running') r`,
        )
        const r = rows[0]!
        samples.pool = Math.max(samples.pool, r.pool)
        samples.run = Math.max(samples.run, r.run)
        samples.free = Math.max(samples.free, r.free)
        await new Promise((res) => setTimeout(res, 5))
      }
    })()
    try {
      for (const id of ids) expect((await waitForRun(s, id, undefined, 60_000)).status).toBe('succeeded')
    } finally {
      done = true
      await sampler
    }
    expect(samples.pool).toBeLessThanOrEqual(3)
    expect(samples.run).toBeLessThanOrEqual(2)
    // Measured over every attempt: the caps were reached, never passed.
    expect(await mostAtOnce('capped')).toEqual({ pool: 3, run: 2 })
    // The other customer used the slots the capped one could not.
    expect((await mostAtOnce('free')).pool).toBeGreaterThan(3)
    // Both kinds of worker took part.
    const { rows } = await s.deps.pool.query<{ n: number }>(
      `SELECT count(DISTINCT worker_id)::int AS n FROM job_attempts a JOIN jobs j ON j.id = a.job_id
       WHERE j.customer_id = 'capped'`,
    )
    expect(rows[0]!.n).toBeGreaterThan(1)
  })

  it('holds a cap when a second claim starts before the first commits', async () => {
    // The customer may run 1 job in pool 'race' (noop's pool here), where only these claims run.
    const patched = await s.api('PATCH', '/v1/customers/capped', {
      settings: { concurrency: { perPool: { race: 1 } } },
    })
    expect(patched.status).toBe(200)
    await submit(s, run([{ key: 'x', kind: 'noop' }], { customerId: 'capped' }))
    const a = await s.deps.pool.connect()
    const b = await s.deps.pool.connect()
    try {
      await a.query('BEGIN')
      expect(await claimIn(a, 'worker-a', { poolName: 'race', limit: 1, leaseMs: 60_000 })).toHaveLength(1)
      // A later, higher-priority job: a claim that does not see A's uncommitted claim would take it.
      await submit(s, run([{ key: 'x', kind: 'noop' }], { customerId: 'capped', priority: 9 }))
      await b.query('BEGIN')
      let settled = false
      const claimB = claimIn(b, 'worker-b', { poolName: 'race', limit: 1, leaseMs: 60_000 }).finally(
        () => (settled = true),
      )
      // B waits for the customer's claim lock, held by A until A commits.
      for (;;) {
        const { rows } = await s.deps.pool.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND NOT granted`,
        )
        if (rows[0]!.n > 0 || settled) break
        await new Promise((r) => setTimeout(r, 5))
      }
      expect(settled).toBe(false)
      await a.query('COMMIT')
      expect(await claimB).toHaveLength(0)
      await b.query('COMMIT')
    } finally {
      a.release()
      b.release()
    }
    const { rows } = await s.deps.pool.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM jobs WHERE pool = 'race' AND status = 'running'`,
    )
    expect(rows[0]!.n).toBe(1)
  })
})
