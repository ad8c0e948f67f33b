// The PostgreSQL queue as a worker uses it: claim, finish, fail, release, renew leases.
//
// Guarantees:
// - a job is claimed by one worker at a time (FOR UPDATE SKIP LOCKED), highest priority, then oldest;
// - claiming starts a new attempt: `attempt` is the lease's generation, so every write a worker
//   makes is conditional on (id, lease_owner, attempt, status = 'running'). A worker whose lease
//   expired, or whose job was cancelled, writes nothing: its result is discarded;
// - each transition, its attempt record and its telemetry event commit in one transaction.

import type { Pool, PoolClient, Queryable } from '../db/postgres.ts'
import { appendEvents, type NewEvent } from '../ingest/index.ts'
import { jobEvent, runEvent } from './events.ts'
import { decideFailure, type FailureDecision, type RetryPolicy } from './retry.ts'
import type { FailureClass } from './schemas.ts'
import { notifyPools, recountFailed, retryingTransaction, settleRun } from './settle.ts'
import { prepared } from './sql.ts'
import type { ClaimedJob } from './types.ts'

const JOB_COLUMNS = `j.id, j.run_id, j.customer_id, j.project_id, j.run_type, j.step_key, j.kind, j.pool, j.input,
  j.fallback, j.using_fallback, j.attempt, j.failures, j.reclaims, j.max_attempts, j.backoff_ms, j.timeout_ms, j.checkpoint`

// Timestamps use clock_timestamp(), not now() (the transaction's start): a job claimed in a
// transaction that began before its dependency committed must still show a later start.
const SQL = {
  claim: `
    WITH next AS (
      SELECT id FROM jobs WHERE pool = $1 AND status = 'queued' AND run_at <= now()
      ORDER BY priority DESC, run_at, id LIMIT $2 FOR UPDATE SKIP LOCKED
    )
    , j AS (
      UPDATE jobs j SET status = 'running', attempt = j.attempt + 1, lease_owner = $3,
        lease_expires_at = now() + $4::int * interval '1 millisecond', started_at = clock_timestamp()
      FROM next WHERE j.id = next.id
      RETURNING ${JOB_COLUMNS}, j.priority
    ), a AS (
      INSERT INTO job_attempts (job_id, attempt, kind, worker_id, started_at)
      SELECT id, attempt, kind, $3, clock_timestamp() FROM j
    ), r AS (
      UPDATE runs SET status = 'running', started_at = clock_timestamp()
      WHERE id IN (SELECT run_id FROM j) AND status = 'queued' RETURNING id
    )
    SELECT j.*, r.id IS NOT NULL AS run_started FROM j LEFT JOIN r ON r.id = j.run_id`,
  // $4 next status, $5 delay ms (queued), $6 error class, $7 message, $8 fallback switch, $9 counts as
  // failure, $10 counts as reclaim, $11 duration, $12 attempt outcome, $13 retry delay, $14 attempt error.
  // One timestamp for the attempt's end and the retry's run_at: the next attempt never appears to
  // start before its backoff elapsed.
  fail: `
    WITH t AS (SELECT clock_timestamp() AS ts), j AS (
      UPDATE jobs SET status = $4, run_at = t.ts + $5::int * interval '1 millisecond',
        error_class = $6, last_error = $7, lease_owner = NULL, lease_expires_at = NULL,
        failures = failures + $9::int, reclaims = reclaims + $10::int, worker_ms = worker_ms + $11,
        finished_at = CASE WHEN $4 IN ('failed', 'dead') THEN t.ts END,
        dead_lettered_at = CASE WHEN $4 = 'dead' THEN t.ts END,
        using_fallback = using_fallback OR $8,
        kind = CASE WHEN $8 THEN fallback->>'kind' ELSE kind END,
        pool = CASE WHEN $8 THEN fallback->>'pool' ELSE pool END,
        input = CASE WHEN $8 THEN coalesce(fallback->'input', input) ELSE input END
      FROM t WHERE id = $1 AND lease_owner = $2 AND attempt = $3 AND status = 'running'
      RETURNING pool
    ), a AS (
      UPDATE job_attempts SET outcome = $12, finished_at = t.ts, error_class = $6, error = $14,
        duration_ms = $11, retry_delay_ms = $13
      FROM t WHERE job_id = $1 AND attempt = $3 AND EXISTS (SELECT 1 FROM j)
    )
    SELECT pool FROM j`,
  renew: `
    UPDATE jobs SET lease_expires_at = now() + $2::int * interval '1 millisecond'
    WHERE lease_owner = $1 AND status = 'running' AND id = ANY ($3::text[]) AND attempt = ANY ($4::int[])
    RETURNING id, attempt`,
  checkpoint: `UPDATE jobs SET checkpoint = $4 WHERE id = $1 AND lease_owner = $2 AND attempt = $3 AND status = 'running'`,
  usage: `INSERT INTO job_usage (job_id, run_id, attempt, model, input_tokens, output_tokens) VALUES ($1, $2, $3, $4, $5, $6)`,
  hasJobsTable: `SELECT to_regclass('jobs')::text AS t`,
}

/** Whether the database has the queue (the orchestrator's migrations ran). */
export async function hasQueueTables(db: Queryable): Promise<boolean> {
  const { rows } = await db.query<{ t: string | null }>(SQL.hasJobsTable)
  return Boolean(rows[0]?.t)
}

export interface ClaimRequest {
  poolName: string
  limit: number
  leaseMs: number
}

/** Claims inside the caller's transaction; returns the jobs and the events to append. */
export async function claimIn(c: PoolClient, workerId: string, r: ClaimRequest) {
  const { rows } = await c.query<ClaimedJob & { priority: number; run_started: boolean }>(
    prepared('claim', SQL.claim, [r.poolName, r.limit, workerId, r.leaseMs]),
  )
  rows.sort((a, b) => b.priority - a.priority)
  const started = new Set(rows.filter((x) => x.run_started).map((x) => x.run_id))
  const events: NewEvent[] = rows
    .filter((x) => started.delete(x.run_id))
    .map((x) => runEvent(runDims(x), 'started'))
  for (const x of rows) events.push(jobEvent(x, 'started', { workerId }))
  return { rows: rows as ClaimedJob[], events }
}

export async function claimJobs(
  pool: Pool,
  poolName: string,
  workerId: string,
  limit: number,
  leaseMs: number,
): Promise<ClaimedJob[]> {
  return retryingTransaction(
    pool,
    async (c) => {
      const { rows, events } = await claimIn(c, workerId, { poolName, limit, leaseMs })
      await appendEvents(c, events)
      return rows
    },
    { asyncCommit: true },
  )
}

export const runDims = (j: ClaimedJob) => ({
  id: j.run_id,
  customer_id: j.customer_id,
  project_id: j.project_id,
  type: j.run_type,
})

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

export async function saveCheckpoint(pool: Pool, l: Lease, data: unknown): Promise<boolean> {
  const res = await pool.query(SQL.checkpoint, [
    l.job.id,
    l.workerId,
    l.job.attempt,
    JSON.stringify(data ?? null),
  ])
  return (res.rowCount ?? 0) > 0
}

export async function recordUsage(
  pool: Pool,
  l: Lease,
  u: { model: string; inputTokens: number; outputTokens: number },
): Promise<void> {
  const { job } = l
  await retryingTransaction(pool, async (c: PoolClient) => {
    await c.query(SQL.usage, [job.id, job.run_id, job.attempt, u.model, u.inputTokens, u.outputTokens])
    await appendEvents(c, [
      {
        type: 'usage',
        customerId: job.customer_id,
        projectId: job.project_id,
        runId: job.run_id,
        jobId: job.id,
        runType: job.run_type,
        pool: job.pool,
        model: u.model,
        inputTokens: u.inputTokens,
        outputTokens: u.outputTokens,
      },
    ])
  })
}
