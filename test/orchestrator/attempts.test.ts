// Attempt records: a running attempt is read from its job's row; its record in job_attempts is
// written once, by the statement that ends it, with the worker, kind and start it ran with.
import { describe, expect, it } from 'vitest'
import type { Pool } from '../../src/db/postgres.ts'
import { createEgressPolicy } from '../../src/egress/index.ts'
import { claimJobs } from '../../src/orchestrator/claim.ts'
import { cancelRun } from '../../src/orchestrator/control.ts'
import { createRun, handlerSet } from '../../src/orchestrator/index.ts'
import { getJob } from '../../src/orchestrator/jobs.ts'
import { reclaimExpired } from '../../src/orchestrator/leases.ts'
import { failJob } from '../../src/orchestrator/queue.ts'
import { succeedJobs } from '../../src/orchestrator/succeed.ts'
import { acmeDatabase, acmeRun, fastConfig } from './helpers.ts'

const config = fastConfig()
const handlers = handlerSet(createEgressPolicy())
let pool: Pool
acmeDatabase((p) => {
  pool = p
})

const everyone = () => true
const oneJob = () => createRun(pool, config, handlers, acmeRun([{ key: 'x', kind: 'noop', input: {} }]))
/** Claims the one queued job of `runId` for `worker` (other tests' jobs are left alone). */
async function claimOf(runId: string, worker: string) {
  const jobs = await claimJobs(pool, 'default', worker, 8, 30_000)
  const mine = jobs.find((j) => j.run_id === runId)!
  expect(mine).toBeDefined()
  return mine
}
const recorded = async (jobId: string) =>
  (
    await pool.query(
      `SELECT attempt, kind, worker_id, outcome, error_class, started_at, finished_at, duration_ms
       FROM job_attempts WHERE job_id = $1 ORDER BY attempt`,
      [jobId],
    )
  ).rows
const startedAt = async (jobId: string) =>
  (await pool.query<{ started_at: Date }>('SELECT started_at FROM jobs WHERE id = $1', [jobId])).rows[0]!
    .started_at

describe('attempt records', () => {
  it('shows a running attempt from its job, and records it once when it succeeds', async () => {
    const run = await oneJob()
    const job = await claimOf(run.id, 'w-run')
    expect(await recorded(job.id)).toEqual([])
    const seen = await getJob(pool, job.id, everyone, 60_000)
    expect(seen.attempts).toHaveLength(1)
    expect(seen.attempts[0]).toMatchObject({
      attempt: 1,
      workerId: 'w-run',
      outcome: 'running',
      finishedAt: null,
    })
    const began = await startedAt(job.id)

    await succeedJobs(pool, 'w-run', [{ job, output: null, durationMs: 7 }])
    const rows = await recorded(job.id)
    expect(rows).toEqual([
      expect.objectContaining({
        attempt: 1,
        kind: 'noop',
        worker_id: 'w-run',
        outcome: 'succeeded',
        duration_ms: 7,
      }),
    ])
    expect(rows[0].started_at).toEqual(began)
    expect(rows[0].finished_at.getTime()).toBeGreaterThanOrEqual(began.getTime())
    const after = await getJob(pool, job.id, everyone, 60_000)
    expect(after.attempts.map((a) => a.outcome)).toEqual(['succeeded'])
  })

  it('records a retried attempt, then the running one beside it', async () => {
    const run = await oneJob()
    const job = await claimOf(run.id, 'w-fail')
    await failJob(pool, { job, workerId: 'w-fail' }, 'transient', 'flaky', 3, {
      maxBackoffMs: 1,
      maxReclaims: 5,
    })
    await new Promise((r) => setTimeout(r, 10))
    const again = await claimOf(run.id, 'w-next')
    expect(again.attempt).toBe(2)
    const seen = await getJob(pool, job.id, everyone, 60_000)
    expect(seen.attempts.map((a) => [a.attempt, a.outcome, a.workerId])).toEqual([
      [1, 'retried', 'w-fail'],
      [2, 'running', 'w-next'],
    ])
    expect(await recorded(job.id)).toEqual([
      expect.objectContaining({
        attempt: 1,
        worker_id: 'w-fail',
        outcome: 'retried',
        error_class: 'transient',
      }),
    ])
  })

  it('records a lost attempt under the worker that held it, and a cancelled one', async () => {
    const lost = await oneJob()
    const job = await claimOf(lost.id, 'w-gone')
    await pool.query(`UPDATE jobs SET lease_expires_at = now() - interval '1 second' WHERE id = $1`, [job.id])
    expect(await reclaimExpired(pool, 5)).toBeGreaterThanOrEqual(1)
    expect(await recorded(job.id)).toEqual([
      expect.objectContaining({
        attempt: 1,
        worker_id: 'w-gone',
        outcome: 'lost',
        error_class: 'infrastructure',
      }),
    ])

    const cancelled = await oneJob()
    const running = await claimOf(cancelled.id, 'w-busy')
    await cancelRun(pool, cancelled.id, everyone, { by: 'operator', actor: 'admin' })
    expect(await recorded(running.id)).toEqual([
      expect.objectContaining({ attempt: 1, worker_id: 'w-busy', outcome: 'cancelled' }),
    ])
  })

  it('completes the running record an earlier version wrote at the claim, and shows it once', async () => {
    const run = await oneJob()
    const job = await claimOf(run.id, 'w-old')
    await pool.query(
      `INSERT INTO job_attempts (job_id, attempt, kind, worker_id, started_at) VALUES ($1, 1, 'noop', 'w-old', now())`,
      [job.id],
    )
    const seen = await getJob(pool, job.id, everyone, 60_000)
    expect(seen.attempts.map((a) => a.outcome)).toEqual(['running'])
    await succeedJobs(pool, 'w-old', [{ job, output: null, durationMs: 2 }])
    expect((await recorded(job.id)).map((r) => r.outcome)).toEqual(['succeeded'])
  })
})
