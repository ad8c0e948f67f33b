// The PostgreSQL queue as a worker uses it: fail, release, renew leases, checkpoints, usage
// (claims are in claim.ts, successes in succeed.ts).
//
// Guarantees:
// - a job is claimed by one worker at a time (claim.ts: fair share, then priority, then age);
// - claiming starts a new attempt: `attempt` is the lease's generation, so every write a worker
//   makes is conditional on (id, lease_owner, attempt, status = 'running'). A worker whose lease
//   expired, or whose job was cancelled, writes nothing: its result is discarded;
// - each transition, its attempt record and its telemetry event commit in one transaction.

import type { Pool, Queryable } from '../db/postgres.ts'
import { appendEvents } from '../ingest/index.ts'
import { recordAttempts } from './attempts.ts'
import { jobEvent } from './events.ts'
import { decideFailure, type FailureDecision, type RetryPolicy } from './retry.ts'
import type { FailureClass } from './schemas.ts'
import { notifyPools, recountFailed, retryingTransaction, settleRun } from './settle.ts'
import { HELD_ATTEMPT, prepared } from './sql.ts'
import type { ClaimedJob } from './types.ts'

// Timestamps use clock_timestamp(), not now() (the transaction's start), as in claim.ts.
const SQL = {
  // $4 next status, $5 delay ms (queued), $6 error class, $7 message, $8 fallback switch, $9 counts as
  // failure, $10 counts as reclaim, $11 duration, $12 attempt outcome, $13 retry delay, $14 attempt error.
  // One timestamp for the attempt's end and the retry's run_at: the next attempt never appears to
  // start before its backoff elapsed.
  fail: `
    WITH t AS (SELECT clock_timestamp() AS ts), old AS (
      -- The attempt as it ran (a fallback switch below changes the job's kind for the next one).
      SELECT kind, started_at FROM jobs WHERE ${HELD_ATTEMPT}
    ), j AS (
      UPDATE jobs SET status = $4, run_at = t.ts + $5::int * interval '1 millisecond',
        error_class = $6, last_error = $7, lease_owner = NULL, lease_expires_at = NULL,
        failures = failures + $9::int, reclaims = reclaims + $10::int, worker_ms = worker_ms + $11,
        finished_at = CASE WHEN $4 IN ('failed', 'dead') THEN t.ts END,
        dead_lettered_at = CASE WHEN $4 = 'dead' THEN t.ts END,
        using_fallback = using_fallback OR $8,
        kind = CASE WHEN $8 THEN fallback->>'kind' ELSE kind END,
        pool = CASE WHEN $8 THEN fallback->>'pool' ELSE pool END,
        input = CASE WHEN $8 THEN coalesce(fallback->'input', input) ELSE input END
      FROM t WHERE ${HELD_ATTEMPT}
      RETURNING pool
    ), a AS (${recordAttempts(
      `SELECT $1, $3, old.kind, $2, old.started_at, t.ts, $12::text, $6::text, $14::text, $11::int, $13::int
       FROM old, t WHERE EXISTS (SELECT 1 FROM j)`,
    )}
    )
    SELECT pool FROM j`,
  // coalesce: a plain `status = 'running'` let the kept plan read jobs_running, every running job
  // of every pool (its key does not start with the id), at each heartbeat of each worker.
  renew: `
    UPDATE jobs SET lease_expires_at = now() + $2::int * interval '1 millisecond'
    WHERE lease_owner = $1 AND coalesce(status, '') = 'running' AND id = ANY ($3::text[]) AND attempt = ANY ($4::int[])
    RETURNING id, attempt`,
  hasJobsTable: `SELECT to_regclass('jobs')::text AS t`,
}

/** Whether the database has the queue (the orchestrator's migrations ran). */
export async function hasQueueTables(db: Queryable): Promise<boolean> {
  const { rows } = await db.query<{ t: string | null }>(SQL.hasJobsTable)
  return Boolean(rows[0]?.t)
}

export interface Lease {
  job: ClaimedJob
  workerId: string
}

/** Records a failed attempt and its consequence; false when the lease was lost. */
export async function failJob(
  pool: Pool,
  l: Lease,
  cls: FailureClass,
  message: string,
  durationMs: number,
  policy: RetryPolicy,
): Promise<FailureDecision | undefined> {
  const { job, workerId } = l
  const d = decideFailure(job, cls, policy)
  const msg = message.slice(0, 4000)
  return retryingTransaction(pool, async (c) => {
    const res = await c.query<{ pool: string }>(
      prepared('fail', SQL.fail, [
        job.id,
        workerId,
        job.attempt,
        d.status,
        d.delayMs,
        cls,
        msg,
        d.useFallback,
        d.countsAsFailure ? 1 : 0,
        d.countsAsReclaim ? 1 : 0,
        Math.round(durationMs),
        d.action,
        d.status === 'queued' ? d.delayMs : null,
        msg,
      ]),
    )
    if (!res.rowCount) return undefined
    if (d.status === 'queued' && d.delayMs === 0) await notifyPools(c, [res.rows[0]!.pool])
    if (d.status !== 'queued') await recountFailed(c, job.run_id)
    const runEvents = d.status === 'queued' ? [] : await settleRun(c, job.run_id)
    await appendEvents(c, [jobEvent(job, d.action, { workerId, errorClass: cls, durationMs }), ...runEvents])
    return d
  })
}

/** Hands a job back to the queue (worker shutdown) without spending its attempt budget. */
export async function releaseJob(pool: Pool, l: Lease, durationMs: number): Promise<boolean> {
  const { job, workerId } = l
  return retryingTransaction(pool, async (c) => {
    const res = await c.query<{ pool: string }>(
      prepared('fail', SQL.fail, [
        job.id,
        workerId,
        job.attempt,
        'queued',
        0,
        'infrastructure',
        'released by a stopping worker',
        false,
        0,
        0,
        Math.round(durationMs),
        'released',
        0,
        null,
      ]),
    )
    if (!res.rowCount) return false
    await appendEvents(c, [
      jobEvent(job, 'reclaimed', { workerId, errorClass: 'infrastructure', durationMs }),
    ])
    await notifyPools(c, [res.rows[0]!.pool])
    return true
  })
}

/** A lease is one attempt of one job: a worker may briefly hold a stale attempt and the new one. */
export const leaseKey = (j: { id: string; attempt: number }): string => `${j.id}:${j.attempt}`

/** Extends the leases of these attempts; returns the lease keys still held (the others were lost). */
export async function renewLeases(
  pool: Pool,
  workerId: string,
  leaseMs: number,
  jobs: { id: string; attempt: number }[],
): Promise<Set<string>> {
  if (jobs.length === 0) return new Set()
  const { rows } = await pool.query<{ id: string; attempt: number }>(
    prepared('renew', SQL.renew, [workerId, leaseMs, jobs.map((j) => j.id), jobs.map((j) => j.attempt)]),
  )
  return new Set(rows.map(leaseKey))
}
