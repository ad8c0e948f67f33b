// Bounded history: finished runs older than `retention.days` are deleted in batches, with their
// jobs, attempts and usage rows (ON DELETE CASCADE); so are workers gone as long, and the
// scheduler's run records (src/scheduler/history.ts). Runs hourly as `orchestrator.retention`.
//
// Guarantees:
// - only runs that finished (succeeded, failed, cancelled) before every one of: `now -
//   retention.days`; `closedUntil()`, the end of the last closed SLA month (nothing is deleted while
//   no month is closed; the rule is the SLA engine's, handed in by the composition root so this
//   module does not depend on the layer above); and the oldest event still in the telemetry
//   outbox (`shippedBefore`): every event of a run is appended no later than the transaction that
//   finishes it, so a run finished before the oldest unshipped event has its telemetry in ClickHouse;
// - one batch of `retention.batchSize` runs per transaction. A batch locks the runs' jobs, then
//   deletes the runs that are still finished and old (in the lock order of control.ts: jobs, then
//   the run), so a run an operator resumes or retries meanwhile is kept, and neither waits long;
// - the claim path never reads these rows: its indexes are partial on live statuses, so deleting
//   history does not slow claims, and history does not either (`npm run bench -- queue --history`).
import type { Pool, Queryable } from '../db/postgres.ts'
import { shippedBefore } from '../ingest/index.ts'
import { pruneScheduledRuns } from '../scheduler/index.ts'
import type { OrchestratorConfig } from './config.ts'

const FINISHED = `status IN ('succeeded', 'failed', 'cancelled')`
const SQL = {
  now: 'SELECT now() AS now',
  lockJobs: `
    WITH candidates AS (
      -- By created_at (runs_created): a run finished before $1 was created before it. An index
      -- on finished_at would cost every run's finish an entry in each index (migration 089).
      SELECT id FROM runs WHERE created_at < $1 AND ${FINISHED} AND finished_at < $1 ORDER BY created_at LIMIT $2
    )
    SELECT run_id FROM jobs WHERE run_id IN (SELECT id FROM candidates) ORDER BY id FOR UPDATE`,
  deleteRuns: `
    WITH gone AS (
      DELETE FROM runs WHERE id = ANY($1) AND ${FINISHED} AND finished_at < $2 RETURNING id
    )
    SELECT (SELECT count(*) FROM gone)::int AS runs,
           (SELECT count(*) FROM jobs WHERE run_id IN (SELECT id FROM gone))::int AS jobs`,
  // Estimated rows (the planner's, kept by autovacuum and ANALYZE: no scan) and bytes with indexes.
  sizes: `
    SELECT t AS table, greatest(c.reltuples, 0)::float8 AS rows, pg_total_relation_size(c.oid)::float8 AS bytes
    FROM unnest($1::text[]) AS t JOIN pg_class c ON c.oid = to_regclass(t)`,
  deleteWorkers: `
    DELETE FROM workers WHERE id IN (
      SELECT id FROM workers WHERE status IN ('stopped', 'lost') AND last_heartbeat_at < $1 LIMIT $2)`,
}

/** The tables whose history retention bounds. */
export const HISTORY_TABLES = ['runs', 'jobs', 'job_attempts', 'job_usage', 'workers', 'scheduled_runs']

export interface TableSize {
  table: string
  rows: number
  bytes: number
}

/** Size of each history table: estimated rows and bytes on disk (indexes and TOAST included). */
export async function historyTableSizes(db: Queryable): Promise<TableSize[]> {
  return (await db.query<TableSize>(SQL.sizes, [HISTORY_TABLES])).rows
}

export interface HistoryPruned {
  /** Runs finished before this instant were eligible (null: none was). */
  cutoff: string | null
  /** What set the cut-off: the retention, the last closed SLA month, or telemetry not yet shipped. */
  limitedBy: 'retention' | 'open_month' | 'telemetry' | 'disabled'
  runs: number
  jobs: number
  batches: number
  workers: number
  scheduledRuns: number
}

export interface PruneOptions {
  pool: Pool
  config: OrchestratorConfig['retention']
  /** Every SLA month before this instant is closed; null while none is. */
  closedUntil: () => Promise<Date | null>
  signal?: AbortSignal
}

/** Deletes the history the guarantees above allow, a batch per transaction. */
export async function pruneHistory(o: PruneOptions): Promise<HistoryPruned> {
  const out: HistoryPruned = {
    cutoff: null,
    limitedBy: 'disabled',
    runs: 0,
    jobs: 0,
    batches: 0,
    workers: 0,
    scheduledRuns: 0,
  }
  if (o.config.days === 0) return out
  const now = (await o.pool.query<{ now: Date }>(SQL.now)).rows[0]!.now
  const byAge = new Date(now.getTime() - o.config.days * 86_400_000)
  const [closed, shipped] = await Promise.all([o.closedUntil(), shippedBefore(o.pool)])
  // The earliest limit wins; while no month is closed, every run is kept.
  let cutoff: Date | null = byAge
  out.limitedBy = 'retention'
  if (closed === null || closed < cutoff) [cutoff, out.limitedBy] = [closed, 'open_month']
  if (cutoff && shipped < cutoff) [cutoff, out.limitedBy] = [shipped, 'telemetry']
  if (cutoff) {
    out.cutoff = cutoff.toISOString()
    while (!o.signal?.aborted) {
      const batch = await deleteBatch(o.pool, cutoff, o.config.batchSize)
      out.runs += batch.runs
      out.jobs += batch.jobs
      if (batch.candidates) out.batches++
      if (batch.candidates < o.config.batchSize) break
    }
  }
  // Workers matter only for their telemetry; the scheduler's records for nothing but history.
  const workersBefore = shipped < byAge ? shipped : byAge
  for (;;) {
    const { rowCount } = await o.pool.query(SQL.deleteWorkers, [workersBefore, o.config.batchSize])
    out.workers += rowCount ?? 0
    if ((rowCount ?? 0) < o.config.batchSize) break
  }
  out.scheduledRuns = await pruneScheduledRuns(o.pool, byAge, o.config.batchSize)
  return out
}

/** One batch in one transaction: `candidates` runs were old enough, `runs` of them went. */
async function deleteBatch(
  pool: Pool,
  cutoff: Date,
  size: number,
): Promise<{ candidates: number; runs: number; jobs: number }> {
  const c = await pool.connect()
  try {
    await c.query('BEGIN')
    // The candidates' jobs first, by id (control.ts takes a run's jobs, then the run). Every run
    // has at least one job, so the locked jobs name every candidate.
    const locked = await c.query<{ run_id: string }>(SQL.lockJobs, [cutoff, size])
    const ids = [...new Set(locked.rows.map((r) => r.run_id))]
    const res = ids.length
      ? (await c.query<{ runs: number; jobs: number }>(SQL.deleteRuns, [ids, cutoff])).rows[0]!
      : { runs: 0, jobs: 0 }
    await c.query('COMMIT')
    return { candidates: ids.length, ...res }
  } catch (err) {
    await c.query('ROLLBACK').catch(() => {})
    throw err
  } finally {
    c.release()
  }
}
