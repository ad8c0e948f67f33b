// Separate `steward worker` processes on the same PostgreSQL: a SIGKILLed worker's job is reclaimed
// and completed by another; two workers share 2,000 jobs with each handler running exactly once;
// SIGTERM lets the in-flight job finish before the process exits.
import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { startTestSteward, type TestSteward } from '../helpers/app.ts'
import { createTestDatabaseUrl } from '../helpers/db.ts'
import { fastConfig, type Json, run, step, submit, waitForRun } from './helpers.ts'

const timings = {
  leaseMs: 2_000,
  heartbeatMs: 200,
  pollMs: 200,
  reclaimEveryMs: 200,
  workerLostAfterMs: 2_000,
}
let s: TestSteward
let dbUrl: string
let dataDir: string
let fastWorkerConfig: string
let steadyConfig: string
const children: ChildProcess[] = []

// The executor the `http` steps call: counts each job's calls; /hang never answers its first call.
const calls = new Map<string, number>()
let hangingSeen: () => void = () => {}
let server: Server
let base: string
function handle(req: IncomingMessage, res: ServerResponse) {
  const jobId = String(req.headers['x-steward-job-id'])
  calls.set(jobId, (calls.get(jobId) ?? 0) + 1)
  if (req.url === '/hang' && req.headers['x-steward-attempt'] === '1') {
    hangingSeen()
    return // the worker is killed while waiting for this answer
  }
  res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}')
}

function startWorkerProcess(concurrency: number, config = fastWorkerConfig): Promise<ChildProcess> {
  const child = spawn(
    process.execPath,
    ['bin/steward.js', 'worker', '--pool', 'default', '--concurrency', String(concurrency)],
    {
      cwd: join(import.meta.dirname, '..', '..'),
      env: {
        ...process.env,
        DATABASE_URL: dbUrl,
        STEWARD_DATA_DIR: dataDir,
        STEWARD_CONFIG: config,
        LOG_LEVEL: 'silent',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  )
  children.push(child)
  return new Promise((resolve, reject) => {
    let out = ''
    child.stdout!.on('data', (d) => {
      out += d
      if (out.includes('serving pool')) resolve(child)
    })
    child.stderr!.on('data', (d) => (out += d))
    child.once('exit', (code) => reject(new Error(`worker exited early (${code}): ${out}`)))
  })
}
const exited = (c: ChildProcess) =>
  new Promise<number | null>((resolve) =>
    c.exitCode !== null ? resolve(c.exitCode) : c.once('exit', resolve),
  )

beforeAll(async () => {
  server = createServer(handle)
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  dbUrl = await createTestDatabaseUrl()
  dataDir = mkdtempSync(join(tmpdir(), 'steward-worker-'))
  fastWorkerConfig = join(dataDir, 'fast.json')
  // The executor is on loopback, which the egress policy refuses unless allowlisted: this port only.
  const egress = { allowlist: [`127.0.0.1:${(server.address() as AddressInfo).port}`] }
  writeFileSync(
    fastWorkerConfig,
    JSON.stringify({ orchestrator: { ...timings, shutdownGraceMs: 5_000 }, egress }),
  )
  steadyConfig = join(dataDir, 'steady.json')
  writeFileSync(
    steadyConfig,
    JSON.stringify({
      orchestrator: { ...timings, leaseMs: 30_000, heartbeatMs: 2_000, workerLostAfterMs: 60_000 },
      egress,
    }),
  )
  // The control plane runs no workers of its own here: only the worker processes run jobs.
  s = await startTestSteward({
    databaseUrl: dbUrl,
    file: { orchestrator: fastConfig({ ...timings, workers: 0 }) },
  })
  expect((await s.api('POST', '/v1/customers', { id: 'acme', name: 'Acme' })).status).toBe(201)
})
// Each test starts the worker processes it needs; none outlives its test.
afterEach(async () => {
  const alive = children.filter((c) => c.exitCode === null && c.signalCode === null)
  for (const c of alive) c.kill('SIGKILL')
  await Promise.all(alive.map(exited))
})
afterAll(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL')
  server?.closeAllConnections()
  server?.close()
  await s?.stop()
})

describe('a worker process killed mid-job', () => {
  it('loses its lease; another worker reclaims the job and the run succeeds', async () => {
    const a = await startWorkerProcess(2)
    const seen = new Promise<void>((r) => (hangingSeen = r))
    const id = await submit(
      s,
      run([{ key: 'call', kind: 'http', input: { url: `${base}/hang` }, timeoutMs: 60_000 }]),
    )
    await seen
    a.kill('SIGKILL')
    await exited(a)
    await startWorkerProcess(2)
    const r = await waitForRun(s, id)
    expect(r.status).toBe('succeeded')
    const job = step(r, 'call')
    expect(job).toMatchObject({ attempt: 2, reclaims: 1, failures: 0 })
    expect(job.attempts.map((x: Json) => x.outcome)).toEqual(['lost', 'succeeded'])
    expect(job.attempts[0].workerId).not.toBe(job.attempts[1].workerId)
    expect(calls.get(job.jobId)).toBe(2)
    const workers = (await (await s.api('GET', '/v1/workers')).json()) as Json
    expect(workers.items.find((w: Json) => w.id === job.attempts[0].workerId)?.status).toMatch(/live|lost/)
  })
})

describe('two worker processes and 2,000 jobs', () => {
  it('run each job’s handler exactly once', async () => {
    // Leases long enough that a loaded CI machine does not expire them: this test has no faults.
    const [w1, w2] = await Promise.all([
      startWorkerProcess(8, steadyConfig),
      startWorkerProcess(8, steadyConfig),
    ])
    try {
      const ids: string[] = []
      for (let r = 0; r < 100; r++) {
        const steps = Array.from({ length: 20 }, (_, i) => ({
          key: `s${i}`,
          kind: 'http',
          input: { url: `${base}/count` },
        }))
        ids.push(await submit(s, run(steps, { type: 'fanout' })))
      }
      for (const id of ids)
        expect((await waitForRun(s, id, ['succeeded', 'failed'], 150_000)).status).toBe('succeeded')
      const { rows } = await s.deps.pool.query(
        `SELECT j.id, j.attempt, array_agg(a.worker_id) AS workers FROM jobs j
         JOIN job_attempts a ON a.job_id = j.id JOIN runs r ON r.id = j.run_id
         WHERE r.type = 'fanout' GROUP BY j.id`,
      )
      expect(rows).toHaveLength(2_000)
      const notOnce = rows.filter((j) => j.attempt !== 1 || j.workers.length !== 1 || calls.get(j.id) !== 1)
      expect(notOnce).toEqual([])
      expect(new Set(rows.map((j) => j.workers[0])).size).toBe(2)
      const workers = (await (await s.api('GET', '/v1/workers')).json()) as Json
      const live = workers.items.filter((w: Json) => w.status === 'live' && w.pool === 'default')
      expect(live.length).toBeGreaterThanOrEqual(2)
    } finally {
      w1.kill('SIGKILL')
      w2.kill('SIGKILL')
    }
  }, 200_000)
})

describe('the egress policy of a worker process', () => {
  it('comes from its config: the allowlisted executor is reached, localhost on another port is refused', async () => {
    let reached = 0
    const other = createServer((_req, res) => {
      reached++
      res.end('{}')
    })
    await new Promise<void>((r) => other.listen(0, '127.0.0.1', r))
    try {
      await startWorkerProcess(2)
      const otherPort = (other.address() as AddressInfo).port
      const id = await submit(
        s,
        run([
          { key: 'allowed', kind: 'http', input: { url: `${base}/count` } },
          // Resolved by the system resolver (getaddrinfo) of the worker process.
          { key: 'named', kind: 'http', input: { url: `http://localhost:${otherPort}/` } },
        ]),
      )
      const r = await waitForRun(s, id)
      expect(step(r, 'allowed').status).toBe('succeeded')
      const named = step(r, 'named')
      expect(named).toMatchObject({ status: 'failed', attempt: 1, errorClass: 'validation' })
      expect(named.attempts[0].error).toBe(
        `egress_refused: http://localhost:${otherPort} resolves to a loopback address`,
      )
      expect(reached).toBe(0)
    } finally {
      other.close()
    }
  })
})

describe('SIGTERM', () => {
  it('stops claiming, finishes the in-flight job and exits 0', async () => {
    const w = await startWorkerProcess(1)
    const id = await submit(s, run([{ key: 'nap', kind: 'sleep', input: { ms: 800 } }]))
    await waitForRun(s, id, ['running'])
    w.kill('SIGTERM')
    expect(await exited(w)).toBe(0)
    const r = await waitForRun(s, id, ['succeeded', 'failed'], 5_000)
    expect(r.status).toBe('succeeded')
    expect(step(r, 'nap').attempt).toBe(1)
    const { rows } = await s.deps.pool.query(`SELECT status FROM workers WHERE id = $1`, [
      step(r, 'nap').attempts[0].workerId,
    ])
    expect(rows[0].status).toBe('stopped')
  })
})
