// Operator and customer actions on runs and jobs: cancel, resume, per-job retry, and the
// dead-letter queue. Each action is one transaction with its telemetry events.
//
// Guarantees:
// - resume re-queues only failed, dead-lettered and cancelled (never finished) jobs; succeeded
//   steps keep their output and are not run again; a handler's last checkpoint stays on the job
//   and is handed back to its next attempt;
// - cancel stops queued jobs at once and tells running ones to abort (NOTIFY); a cancelled job's
//   late result is refused by its lease check;
// - tenancy before locks: every action first reads, without locking, whether the principal may
//   see the run (or job), and answers 404 for another customer's before taking any lock. A
//   customer naming another customer's run never waits on its rows nor makes its owner wait.
import type { Pool, Queryable } from '../db/postgres.ts'
import { ConflictError, NotFoundError } from '../errors.ts'
import { appendEvents } from '../ingest/index.ts'
import { attemptsOf, recordAttempts } from './attempts.ts'
import { type Cancellation, jobEvent, runEvent } from './events.ts'
import { type AttemptRow, attemptsByJob, type JobRow, type RunRow, runOwner, toJob, toRun } from './runs.ts'
import type { DlqEntry, Job, JobStatus, ResumedRun, Run } from './schemas.ts'
import { notifyCancelled, notifyPools, recountFailed, retryingTransaction } from './settle.ts'
import type { JobDims } from './types.ts'

const SQL = {
  lockJobs: `SELECT id FROM jobs WHERE run_id = $1 ORDER BY id FOR UPDATE`,
  lockRun: `SELECT * FROM runs WHERE id = $1 FOR UPDATE`,
  cancelJobs: `
    WITH c AS (
      SELECT id, status AS was, attempt, kind, lease_owner, started_at FROM jobs
      WHERE run_id = $1 AND status IN ('blocked', 'queued', 'running')
    ), a AS (${recordAttempts(`
      SELECT id, attempt, kind, coalesce(lease_owner, ''), started_at, now(), 'cancelled', NULL, NULL, NULL, NULL
      FROM c WHERE was = 'running'`)}
    )
    UPDATE jobs j SET status = 'cancelled', finished_at = now(), lease_owner = NULL, lease_expires_at = NULL
    FROM c WHERE j.id = c.id
    RETURNING j.id, j.run_id, j.customer_id, j.project_id, j.run_type, j.step_key, j.kind, j.pool, j.attempt, c.was`,
  cancelRun: `UPDATE runs SET status = 'cancelled', finished_at = now(), cancelled_by = $2, cancelled_actor = $3,
                cancel_reason = $4 WHERE id = $1
              RETURNING *, extract(epoch FROM finished_at - created_at)::float8 * 1000 AS duration_ms`,
  // Dependencies are read from the snapshot before this statement: a dependency being re-queued
  // here is not succeeded, so its dependents wait (blocked) for it.
  requeue: `
    UPDATE jobs j SET
      status = CASE WHEN NOT EXISTS (SELECT 1 FROM jobs d WHERE d.run_id = j.run_id
                                     AND d.step_key = ANY (j.depends_on) AND d.status <> 'succeeded')
               THEN 'queued' ELSE 'blocked' END,
      failures = 0, reclaims = 0, run_at = now(), finished_at = NULL, dead_lettered_at = NULL
    WHERE j.run_id = $1 AND j.status = ANY ($2::text[]) AND ($3::text IS NULL OR j.id = $3)
    RETURNING j.id, j.pool, j.status`,
  reopenRun: `UPDATE runs SET status = CASE WHEN started_at IS NULL THEN 'queued' ELSE 'running' END,
                finished_at = NULL, error_class = NULL, cancelled_by = NULL, cancelled_actor = NULL,
                cancel_reason = NULL WHERE id = $1 RETURNING *`,
  getJob: `SELECT * FROM jobs WHERE id = $1`,
  jobAttempts: attemptsOf('j.id = ANY ($1::text[])'),
  dlq: `SELECT * FROM jobs WHERE status = 'dead' AND ($1::text IS NULL OR customer_id = $1)
        ORDER BY dead_lettered_at DESC, id LIMIT $2`,
}

type Visible = (customerId: string) => boolean
type FinishedRunRow = RunRow & { duration_ms: number }

/**
 * Locks a run the principal may see, with its jobs (lock order: jobs, then the run). Whether it
 * may see it is read first, without a lock: another customer's run is a 404 before any lock.
 */
async function lockVisibleRun(c: Queryable, id: string, visible: Visible): Promise<RunRow> {
  const owner = await runOwner(c, id)
  if (owner === undefined || !visible(owner)) throw new NotFoundError(`run ${id}`)
  await c.query(SQL.lockJobs, [id])
  const run = (await c.query<RunRow>(SQL.lockRun, [id])).rows[0]
  if (!run) throw new NotFoundError(`run ${id}`)
  return run
}

/** Who cancels: `actor` names the principal ('admin', or 'customer:<id>/token:<token id>'). */
export interface Canceller extends Cancellation {
  actor: string
}

/**
 * Cancels a run: queued and blocked jobs stop, running ones are aborted. Records who cancelled and
 * why (an operator's cancellation counts against the customer's success rate, the customer's own
 * does not: docs/sla.md). Idempotent: a cancelled run keeps its first canceller.
 */
export async function cancelRun(pool: Pool, id: string, visible: Visible, by: Canceller): Promise<Run> {
  return retryingTransaction(pool, async (c) => {
    const run = await lockVisibleRun(c, id, visible)
    if (run.status === 'cancelled') return toRun(run)
    if (run.status === 'succeeded') throw new ConflictError(`run ${id} already succeeded`)
    const { rows } = await c.query<JobDims & { was: JobStatus }>(SQL.cancelJobs, [id])
    const running = rows.filter((r) => r.was === 'running').map((r) => r.id)
    const done = (await c.query<FinishedRunRow>(SQL.cancelRun, [id, by.by, by.actor, by.reason ?? null]))
      .rows[0]!
    await appendEvents(c, [
      ...rows.map((r) => jobEvent(r, 'cancelled')),
      runEvent(done, 'cancelled', {
        durationMs: done.duration_ms,
        cancelled: { by: by.by, ...(by.reason ? { reason: by.reason } : {}) },
      }),
    ])
    await notifyCancelled(c, running)
    return toRun(done)
  })
}

async function requeue(c: Queryable, runId: string, statuses: string[], jobId: string | null) {
  const { rows } = await c.query<{ id: string; pool: string; status: string }>(SQL.requeue, [
    runId,
    statuses,
    jobId,
  ])
  await notifyPools(
    c,
    rows.filter((r) => r.status === 'queued').map((r) => r.pool),
  )
  await recountFailed(c, runId)
  return rows
}

/** Resumes a failed or cancelled run: only jobs that did not succeed run again. */
export async function resumeRun(pool: Pool, id: string, visible: Visible): Promise<ResumedRun> {
  return retryingTransaction(pool, async (c) => {
    const run = await lockVisibleRun(c, id, visible)
    if (run.status !== 'failed' && run.status !== 'cancelled')
      throw new ConflictError(`run ${id} is ${run.status}; only failed or cancelled runs can be resumed`)
    const rows = await requeue(c, id, ['failed', 'dead', 'cancelled'], null)
    const reopened = (await c.query<RunRow>(SQL.reopenRun, [id])).rows[0]!
    await appendEvents(c, [runEvent(reopened, 'resumed')])
    return { ...toRun(reopened), requeuedJobs: rows.map((r) => r.id) }
  })
}

/** Retries one failed or dead-lettered job (`onlyDead`: the DLQ route). */
export async function retryJob(pool: Pool, jobId: string, visible: Visible, onlyDead = false): Promise<Job> {
  return retryingTransaction(pool, async (c) => {
    // A plain read: another customer's job is a 404 before any lock.
    const job = (await c.query<JobRow>(SQL.getJob, [jobId])).rows[0]
    const what = onlyDead ? `dead-lettered job ${jobId}` : `job ${jobId}`
    if (!job || !visible(job.customer_id)) throw new NotFoundError(what)
    const run = await lockVisibleRun(c, job.run_id, visible)
    const current = (await c.query<JobRow>(SQL.getJob, [jobId])).rows[0]!
    if (onlyDead && current.status !== 'dead') throw new NotFoundError(what)
    if (!['failed', 'dead'].includes(current.status))
      throw new ConflictError(
        `job ${jobId} is ${current.status}; only failed or dead-lettered jobs can be retried`,
      )
    if (run.status === 'cancelled')
      throw new ConflictError(`run ${run.id} is cancelled; resume the run instead`)
    await requeue(c, job.run_id, ['failed', 'dead'], jobId)
    if (run.status === 'failed') {
      const reopened = (await c.query<RunRow>(SQL.reopenRun, [run.id])).rows[0]!
      await appendEvents(c, [runEvent(reopened, 'resumed')])
    }
    const after = (await c.query<JobRow>(SQL.getJob, [jobId])).rows[0]!
    return toJob(after, [])
  })
}

/** Dead-lettered jobs with their error history (newest first). */
export async function listDlq(
  db: Queryable,
  customerId: string | undefined,
  limit: number,
): Promise<DlqEntry[]> {
  const { rows } = await db.query<JobRow>(SQL.dlq, [customerId ?? null, limit])
  const attempts = attemptsByJob((await db.query<AttemptRow>(SQL.jobAttempts, [rows.map((r) => r.id)])).rows)
  return rows.map((j) => ({
    ...toJob(j, attempts.get(j.id) ?? []),
    customerId: j.customer_id,
    projectId: j.project_id,
    runType: j.run_type,
  }))
}
