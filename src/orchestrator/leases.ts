// Worker registry and lease recovery.
//
// Guarantees:
// - a job whose lease expired (its worker was killed, hung, or lost the network) goes back to the
//   queue and runs again with a higher `attempt`; the dead worker's late writes are refused
//   because they name the old attempt (see queue.ts);
// - reclaims are capped (`maxReclaims`): a poison job that kills every worker it lands on is
//   dead-lettered instead of looping forever;
// - a worker silent for `workerLostAfterMs` is marked lost (a `worker lost` event dated at its last
//   heartbeat); a lost worker that heartbeats again is live again (it was partitioned, not dead).
import { hostname } from 'node:os'
import type { Pool } from '../db/postgres.ts'
import { appendEvents, type NewEvent } from '../ingest/index.ts'
import { recordAttempts } from './attempts.ts'
import { jobEvent } from './events.ts'
import type { WorkerRecord, WorkerStatus } from './schemas.ts'
import { notifyPools, recountFailed, retryingTransaction, settleRun } from './settle.ts'
import type { JobDims } from './types.ts'

const SQL = {
  // Each lost attempt's record is written with it (attempts.ts), under the worker that held it.
  reclaim: `
    WITH expired AS (
      SELECT id, lease_owner AS owner FROM jobs
      WHERE status = 'running' AND lease_expires_at < now()
      ORDER BY lease_expires_at LIMIT $2 FOR UPDATE SKIP LOCKED
    ), reclaimed AS (
      UPDATE jobs j SET
        status = CASE WHEN j.reclaims + 1 > $1 THEN 'dead' ELSE 'queued' END,
        reclaims = j.reclaims + 1, run_at = now(), lease_owner = NULL, lease_expires_at = NULL,
        error_class = 'infrastructure', last_error = 'lease expired: worker ' || expired.owner || ' stopped heartbeating',
        finished_at = CASE WHEN j.reclaims + 1 > $1 THEN now() END,
        dead_lettered_at = CASE WHEN j.reclaims + 1 > $1 THEN now() END
      FROM expired WHERE j.id = expired.id
      RETURNING j.id, j.run_id, j.customer_id, j.project_id, j.run_type, j.step_key, j.kind, j.pool, j.attempt,
                j.status, j.started_at, expired.owner
    ), lost AS (${recordAttempts(`
      SELECT id, attempt, kind, coalesce(owner, ''), started_at, now(), 'lost', 'infrastructure', 'lease expired',
             NULL, NULL
      FROM reclaimed`)}
    )
    SELECT id, run_id, customer_id, project_id, run_type, step_key, kind, pool, attempt, status, owner FROM reclaimed`,
  lostWorkers: `
    UPDATE workers SET status = 'lost' WHERE status IN ('live', 'stopping')
      AND last_heartbeat_at < now() - $1::int * interval '1 millisecond'
    RETURNING id, pool, last_heartbeat_at`,
  register: `
    INSERT INTO workers (id, pool, concurrency, host, pid) VALUES ($1, $2, $3, $4, $5)
    ON CONFLICT (id) DO UPDATE SET status = 'live', last_heartbeat_at = now(), stopped_at = NULL`,
  beat: `UPDATE workers SET last_heartbeat_at = now(), status = CASE WHEN status = 'lost' THEN 'live' ELSE status END
         WHERE id = $1 RETURNING status`,
  setStatus: `UPDATE workers SET status = $2, stopped_at = CASE WHEN $2 = 'stopped' THEN now() END WHERE id = $1`,
  // Workers seen recently (live, stopping, lost in the last hour), with the jobs they hold.
  listWorkers: `
    SELECT w.*, extract(epoch FROM now() - w.last_heartbeat_at)::float8 AS silent_s,
           coalesce(array_agg(j.id ORDER BY j.id) FILTER (WHERE j.id IS NOT NULL), '{}') AS job_ids
    FROM workers w LEFT JOIN jobs j ON j.status = 'running' AND j.lease_owner = w.id
    WHERE w.status <> 'stopped' OR w.stopped_at > now() - interval '1 hour'
    GROUP BY w.id ORDER BY w.pool, w.started_at`,
}

/** A job whose lease expired, as the reclaim left it. */
type ReclaimedRow = JobDims & { status: 'queued' | 'dead'; owner: string | null }

interface WorkerRow {
  id: string
  pool: string
  concurrency: number
  host: string
  pid: number | null
  status: WorkerStatus
  started_at: Date
  last_heartbeat_at: Date
  silent_s: number
  job_ids: string[]
}

/** Puts jobs with expired leases back in the queue (or the DLQ past the cap). Returns how many. */
export async function reclaimExpired(pool: Pool, maxReclaims: number, batch = 500): Promise<number> {
  return retryingTransaction(pool, async (c) => {
    const { rows } = await c.query<ReclaimedRow>(SQL.reclaim, [maxReclaims, batch])
    if (rows.length === 0) return 0
    const events: NewEvent[] = rows.map((r) =>
      jobEvent(r, r.status === 'dead' ? 'dead_lettered' : 'reclaimed', {
        workerId: r.owner ?? '',
        errorClass: 'infrastructure',
      }),
    )
    await notifyPools(
      c,
      rows.filter((r) => r.status === 'queued').map((r) => r.pool),
    )
    for (const runId of new Set(rows.filter((r) => r.status === 'dead').map((r) => r.run_id))) {
      await recountFailed(c, runId)
      events.push(...(await settleRun(c, runId)))
    }
    await appendEvents(c, events)
    return rows.length
  })
}

/** Marks workers that stopped heartbeating as lost. */
export async function markLostWorkers(pool: Pool, lostAfterMs: number): Promise<number> {
  return retryingTransaction(pool, async (c) => {
    const { rows } = await c.query<{ id: string; pool: string; last_heartbeat_at: Date }>(SQL.lostWorkers, [
      lostAfterMs,
    ])
    // The event is dated when the worker was last heard from, not when its silence was noticed:
    // worker recovery (RTO) runs from the loss itself (docs/sla.md).
    await appendEvents(
      c,
      rows.map((w) => ({
        type: 'worker',
        action: 'lost',
        workerId: w.id,
        pool: w.pool,
        ts: w.last_heartbeat_at.toISOString(),
      })),
    )
    return rows.length
  })
}

export async function registerWorker(
  pool: Pool,
  id: string,
  poolName: string,
  concurrency: number,
): Promise<void> {
  await retryingTransaction(pool, async (c) => {
    await c.query(SQL.register, [id, poolName, concurrency, hostname(), process.pid])
    await appendEvents(c, [{ type: 'worker', action: 'seen', workerId: id, pool: poolName }])
  })
}

export async function workerHeartbeat(pool: Pool, id: string): Promise<void> {
  await pool.query(SQL.beat, [id])
}

export async function setWorkerStatus(pool: Pool, id: string, status: 'stopping' | 'stopped'): Promise<void> {
  await pool.query(SQL.setStatus, [id, status])
}

export async function heartbeatEvent(pool: Pool, id: string, poolName: string): Promise<void> {
  await appendEvents(pool, [
    { type: 'heartbeat', instanceId: id, component: 'worker', pool: poolName, healthy: true },
  ])
}

/** Workers seen recently (live, stopping, lost in the last hour), with the jobs they hold. */
export async function listWorkers(db: Pool): Promise<WorkerRecord[]> {
  const { rows } = await db.query<WorkerRow>(SQL.listWorkers)
  return rows.map((w) => ({
    id: w.id,
    pool: w.pool,
    concurrency: w.concurrency,
    host: w.host,
    pid: w.pid,
    status: w.status,
    startedAt: w.started_at.toISOString(),
    lastHeartbeatAt: w.last_heartbeat_at.toISOString(),
    secondsSinceHeartbeat: Math.max(0, w.silent_s),
    jobs: w.job_ids,
  }))
}
