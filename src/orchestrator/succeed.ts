// Recording successes: a worker commits the results of the jobs that finished in one event-loop
// turn (and those that finish while a commit is under way) in one transaction (one commit for
// many jobs): one statement that is its own transaction when no job has dependents and no run
// has a failed job to settle, else BEGIN, that statement, the rest, COMMIT. The jobs that take
// their slots are claimed meanwhile, by claims of their own.
//
// Guarantees (as for every write of a worker, see queue.ts):
// - each result is written only under its lease (id, lease_owner, attempt, status = 'running');
//   a job whose lease was lost is left alone, its result discarded, and reported not ok;
// - the results, their attempt records, the run counters, the runs that finish, the dependents
//   that become ready and all their telemetry events commit together, with a
//   synchronous commit: a result the worker acknowledges is durable (a lost one would re-run a
//   job that had already succeeded); the attempt's record is written then (attempts.ts);
// - the run rows are updated once per run with the number of its jobs that succeeded, so two jobs
//   of one run in one batch count twice, and exactly one transaction sees the run complete.
import type { Pool } from '../db/postgres.ts'
import { appendEvents, type NewEvent, stewardOutboxCtes } from '../ingest/index.ts'
import { recordAttempts } from './attempts.ts'
import { Batcher } from './batcher.ts'
import { jobEventSql, runEventSql } from './events.ts'
import { leaseKey } from './queue.ts'
import type { RunStatus } from './schemas.ts'
import { notifyPools, retrying, retryingTransaction, settleRun, unblockDependents } from './settle.ts'
import { prepared, runKeyed } from './sql.ts'
import type { ClaimedJob } from './types.ts'

/** Successes committed in one transaction at most (the rest wait for the next). */
const MAX_BATCH = 64
/** Success commits of one worker under way at once (one waits for its WAL flush, one fills). */
const MAX_COMMITS = 2

// $1 job ids, $2 worker, $3 attempts, $4 outputs, $5 durations (ms). Appends the `succeeded`
// events of the jobs and of the runs they finish (events.ts builds them in SQL). `alone`: the
// statement is its own transaction, so it cannot settle a run whose failed job leaves it with no
// active job (settle.ts does, in TypeScript): it then aborts (steward_abort, SQLSTATE SW001) once
// it holds the run's row, and its caller records the batch in a transaction instead.
// `id = ANY (...)` beside each join on a key: an index lookup even in a plan made while the table
// was small (a statement is planned once per connection, and a fresh database grows under it).
// `coalesce(jobs.status, '')`: a plain `status = 'running'` lets the planner read jobs_running
// (every running job of the pool, whose key does not start with the id) instead of the ids.
const succeedSql = (alone: boolean) => `
    WITH v AS (
      SELECT * FROM unnest($1::text[], $3::int[], $4::jsonb[], $5::int[]) WITH ORDINALITY AS v(id, attempt, output, ms, k)
    ), j AS (
      UPDATE jobs SET status = 'succeeded', output = v.output, finished_at = clock_timestamp(), lease_owner = NULL,
        lease_expires_at = NULL, error_class = NULL, worker_ms = worker_ms + v.ms
      FROM v WHERE jobs.id = ANY ($1::text[]) AND jobs.id = v.id AND jobs.lease_owner = $2 AND jobs.attempt = v.attempt
        AND coalesce(jobs.status, '') = 'running'
      RETURNING jobs.id, jobs.attempt, jobs.has_dependents, jobs.run_id, jobs.customer_id, jobs.project_id,
                jobs.run_type, jobs.step_key, jobs.kind, jobs.pool, jobs.started_at, jobs.finished_at, v.ms, v.k
    ), a AS (${recordAttempts(
      `SELECT j.id, j.attempt, j.kind, $2, j.started_at, j.finished_at, 'succeeded', NULL, NULL, j.ms, NULL FROM j`,
    )}
    ), n AS (
      SELECT run_id, count(*)::int AS n FROM j GROUP BY run_id
    ), r AS (
      -- Locks the run rows (serialising their finishing jobs) and finishes each with its last job.
      UPDATE runs SET jobs_succeeded = jobs_succeeded + n.n,
        status = CASE WHEN jobs_succeeded + n.n = jobs_total AND status = 'running' THEN 'succeeded' ELSE status END,
        finished_at = CASE WHEN jobs_succeeded + n.n = jobs_total AND status = 'running' THEN clock_timestamp()
                      ELSE finished_at END
      FROM n WHERE runs.id = n.run_id
      RETURNING runs.id AS run_id, runs.customer_id, runs.project_id, runs.type AS run_type, runs.status,
                runs.jobs_failed, runs.jobs_succeeded = runs.jobs_total AS all_done, runs.finished_at,
                extract(epoch FROM runs.finished_at - runs.created_at)::float8 * 1000 AS duration_ms
    ), done_events AS (
      -- The jobs' events in the order given, then those of the runs they finished.
      SELECT customer_id, body, row_number() OVER (ORDER BY grp, k) AS n FROM (
        SELECT x.customer_id, 0 AS grp, x.k,
               ${jobEventSql('x', 'succeeded', { workerId: '$2::text', ts: 'x.finished_at', durationMs: 'x.ms' })} AS body
        FROM j x
        UNION ALL
        SELECT y.customer_id, 1, 0::bigint,
               ${runEventSql('y', 'succeeded', { ts: 'y.finished_at', durationMs: 'y.duration_ms' })}
        FROM r y WHERE y.all_done AND y.status = 'succeeded'
      ) e
    ), ${stewardOutboxCtes('SELECT customer_id, body, n FROM done_events')}${
      alone
        ? `, needs_settling AS MATERIALIZED (
      SELECT steward_abort('a run of this batch has a failed job to settle') FROM r
      WHERE NOT (r.all_done AND r.status = 'succeeded') AND r.jobs_failed > 0 LIMIT 1
    )`
        : ''
    }
    SELECT j.id, j.attempt, j.has_dependents, r.status, r.jobs_failed, r.all_done
    FROM j JOIN r ON r.run_id = j.run_id${alone ? ' WHERE NOT EXISTS (SELECT 1 FROM needs_settling)' : ''}`

const SQL = { succeedMany: succeedSql(false), succeedAlone: succeedSql(true) }
/** SQLSTATE of steward_abort (087_statement_abort.sql). */
const ABORTED = 'SW001'

export interface Success {
  job: ClaimedJob
  output: unknown
  durationMs: number
}

/** A job whose success was written (its events appended), with its run as the statement left it. */
interface SucceededRow {
  id: string
  attempt: number
  has_dependents: boolean
  status: RunStatus
  jobs_failed: number
  all_done: boolean
}

/**
 * Records these successes of one worker; returns the lease keys written (the others had lost their
 * lease). Without dependents to unblock, one statement that is its own transaction (one round trip
 * instead of three) unless a run needs settling; else BEGIN, the same statement, what it needs,
 * COMMIT.
 */
export async function succeedJobs(pool: Pool, workerId: string, done: Success[]): Promise<Set<string>> {
  const args = [
    done.map((d) => d.job.id),
    workerId,
    done.map((d) => d.job.attempt),
    done.map((d) => JSON.stringify(d.output ?? null)),
    done.map((d) => Math.round(d.durationMs)),
  ]
  if (!done.some((d) => d.job.has_dependents)) {
    try {
      const { rows } = await retrying(() =>
        runKeyed<SucceededRow>(pool, prepared('succeedAlone', SQL.succeedAlone, args)),
      )
      return new Set(rows.map((r) => leaseKey(r)))
    } catch (err) {
      if ((err as { code?: string }).code !== ABORTED) throw err
    }
  }
  return retryingTransaction(
    pool,
    async (c) => {
      const { rows } = await c.query<SucceededRow>(prepared('succeedMany', SQL.succeedMany, args))
      const byLease = new Map(rows.map((r) => [leaseKey(r), r]))
      const events: NewEvent[] = []
      const runs = new Map<string, SucceededRow>()
      for (const d of done) {
        const row = byLease.get(leaseKey(d.job))
        if (!row) continue
        if (row.has_dependents) await notifyPools(c, await unblockDependents(c, d.job.run_id, d.job.step_key))
        runs.set(d.job.run_id, row)
      }
      // Once per run, after all its dependents were unblocked. With a failed job in the run, this
      // may have been its last active job: settle fully.
      for (const [runId, row] of runs)
        if (!(row.all_done && row.status === 'succeeded') && row.jobs_failed > 0)
          events.push(...(await settleRun(c, runId)))
      await appendEvents(c, events)
      return new Set(byLease.keys())
    },
    // Keyed: every statement here looks rows up by key (sql.ts, runKeyed, says why).
    { keyed: true },
  )
}

/** A worker's successes on their way to the database, batched (Batcher): each resolves to whether
 *  it was written (false: its lease was lost, nothing written). */
export function successBatcher(pool: Pool, workerId: string): Batcher<Success, boolean> {
  return new Batcher<Success, boolean>(
    async (batch) => {
      const written = await succeedJobs(pool, workerId, batch)
      return batch.map((b) => written.has(leaseKey(b.job)))
    },
    { maxBatch: MAX_BATCH, maxInFlight: MAX_COMMITS },
  )
}
