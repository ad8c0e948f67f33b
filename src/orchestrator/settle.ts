// Run-level consequences of job transitions, run inside the transaction of the job transition:
// dependents become ready when their dependencies succeeded, a run finishes when its jobs do, and
// idle workers are woken by NOTIFY (delivered at commit, so a worker never sees an uncommitted job).
//
// Lock order: job rows first, then the run row. Concurrent finishes of one run's jobs are
// serialised on the run row, so exactly one of them sees the run complete.

import type { Pool, PoolClient, Queryable } from '../db/postgres.ts'
import { transaction } from '../db/postgres.ts'
import type { NewEvent } from '../ingest/index.ts'
import { type RunDims, runEvent } from './events.ts'
import type { FailureClass, RunStatus } from './schemas.ts'
import { prepared } from './sql.ts'

export const JOBS_CHANNEL = 'steward_jobs'
export const CANCEL_CHANNEL = 'steward_cancel'

const SQL = {
  unblock: `
    UPDATE jobs j SET status = 'queued', run_at = now()
    WHERE j.run_id = $1 AND j.status = 'blocked' AND $2 = ANY (j.depends_on)
      AND NOT EXISTS (SELECT 1 FROM jobs d WHERE d.run_id = j.run_id AND d.step_key = ANY (j.depends_on)
                      AND d.status <> 'succeeded')
    RETURNING j.pool`,
  lockRun: `SELECT id, customer_id, project_id, type, status FROM runs WHERE id = $1 FOR UPDATE`,
  jobCounts: `
    SELECT count(*)::int AS total,
           count(*) FILTER (WHERE status = 'succeeded')::int AS ok,
           count(*) FILTER (WHERE status IN ('queued', 'running'))::int AS active,
           count(*) FILTER (WHERE status IN ('failed', 'dead'))::int AS bad,
           (array_agg(error_class ORDER BY finished_at DESC NULLS LAST)
              FILTER (WHERE status IN ('failed', 'dead')))[1] AS error_class
    FROM jobs WHERE run_id = $1`,
  finishRun: `
    UPDATE runs SET status = $2, finished_at = now(), error_class = $3 WHERE id = $1
    RETURNING extract(epoch FROM finished_at - created_at)::float8 * 1000 AS duration_ms`,
  recountFailed: `UPDATE runs SET jobs_failed = (SELECT count(*) FROM jobs WHERE run_id = $1 AND status IN ('failed', 'dead'))
                  WHERE id = $1`,
  notify: `SELECT pg_notify($1, p) FROM unnest($2::text[]) AS p`,
}

type LockedRun = RunDims & { status: RunStatus }

interface JobCounts {
  total: number
  ok: number
  active: number
  bad: number
  error_class: FailureClass | null
}

/** Wakes workers of these pools when the transaction commits. */
export async function notifyPools(db: Queryable, pools: Iterable<string>): Promise<void> {
  const distinct = [...new Set(pools)]
  if (distinct.length) await db.query(SQL.notify, [JOBS_CHANNEL, distinct])
}

/** Tells workers running these jobs to abort them (cancellation). */
export async function notifyCancelled(db: Queryable, jobIds: string[]): Promise<void> {
  const chunks: string[] = []
  for (let i = 0; i < jobIds.length; i += 100) chunks.push(jobIds.slice(i, i + 100).join(','))
  if (chunks.length) await db.query(SQL.notify, [CANCEL_CHANNEL, chunks])
}

/**
 * Makes the dependents of a succeeded step ready; returns their pools. The run row is locked
 * first: two dependencies finishing at once would otherwise each see the other still running
 * (neither commit visible to the other) and leave their dependent blocked forever.
 */
export async function unblockDependents(db: Queryable, runId: string, stepKey: string): Promise<string[]> {
  await db.query(prepared('lockRun', SQL.lockRun, [runId]))
  const { rows } = await db.query<{ pool: string }>(prepared('unblock', SQL.unblock, [runId, stepKey]))
  return rows.map((r) => r.pool)
}

/** Refreshes the run's count of failed/dead jobs (after jobs failed or were re-queued); locks the run. */
export async function recountFailed(db: Queryable, runId: string): Promise<void> {
  await db.query(SQL.recountFailed, [runId])
}

/**
 * Finishes the run when all its jobs succeeded, or when nothing is left to run and one failed.
 * Returns the run's telemetry events, for the caller to append with its own.
 */
export async function settleRun(db: Queryable, runId: string): Promise<NewEvent[]> {
  const run = (await db.query<LockedRun>(prepared('lockRun', SQL.lockRun, [runId]))).rows[0]
  if (!run || run.status === 'cancelled') return []
  const c = (await db.query<JobCounts>(SQL.jobCounts, [runId])).rows[0]!
  let next: 'succeeded' | 'failed' | undefined
  if (c.ok === c.total) next = 'succeeded'
  else if (c.active === 0 && c.bad > 0) next = 'failed'
  if (!next || next === run.status) return []
  const errorClass = next === 'failed' ? (c.error_class ?? 'transient') : null
  const { rows } = await db.query<{ duration_ms: number }>(SQL.finishRun, [runId, next, errorClass])
  return [runEvent(run, next, { durationMs: rows[0]?.duration_ms, errorClass: errorClass ?? undefined })]
}

const retryable = new Set(['40P01', '40001']) // deadlock detected, serialization failure

/**
 * A transaction retried when PostgreSQL aborts it for a deadlock (e.g. cancel racing a finish).
 * `asyncCommit`: the commit does not wait for the WAL flush. Only for claims: a claim lost in a
 * database crash leaves the job queued (with its events), so it is claimed again and the late
 * result of the lost attempt is refused by its lease check: at-least-once still holds.
 */
export function retryingTransaction<T>(
  pool: Pool,
  fn: (c: PoolClient) => Promise<T>,
  opts: { asyncCommit?: boolean; keyed?: boolean } = {},
): Promise<T> {
  return retrying(() => transaction(pool, fn, opts))
}

/** `work` (a transaction, or one statement that is its own), retried on deadlock or serialization failure. */
export async function retrying<T>(work: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await work()
    } catch (err) {
      if (attempt >= 5 || !retryable.has((err as { code?: string }).code ?? '')) throw err
      await new Promise((r) => setTimeout(r, 10 * attempt * Math.random()))
    }
  }
}
