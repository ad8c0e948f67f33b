// Telemetry events of the orchestrator, built from job and run rows. Callers append them with
// `appendEvents` inside the transaction that makes the state change they describe.
import type { NewEvent } from '../ingest/index.ts'
import type { FailureClass } from './schemas.ts'
import type { JobDims } from './types.ts'

type JobAction = 'started' | 'succeeded' | 'failed' | 'retried' | 'dead_lettered' | 'reclaimed' | 'cancelled'

export function jobEvent(
  j: JobDims,
  action: JobAction,
  extra: { workerId?: string; errorClass?: FailureClass; durationMs?: number } = {},
): NewEvent {
  return {
    type: 'job',
    action,
    customerId: j.customer_id,
    projectId: j.project_id,
    runId: j.run_id,
    runType: j.run_type,
    jobId: j.id,
    stepKey: j.step_key,
    kind: j.kind,
    pool: j.pool,
    attempt: Math.min(j.attempt, 65535),
    workerId: extra.workerId ?? '',
    ...(extra.errorClass ? { errorClass: extra.errorClass } : {}),
    ...(extra.durationMs !== undefined ? { durationMs: Math.max(0, Math.round(extra.durationMs)) } : {}),
  }
}

export interface RunDims {
  id: string
  customer_id: string
  project_id: string
  type: string
}

type RunAction = 'created' | 'started' | 'succeeded' | 'failed' | 'cancelled' | 'resumed'

/** Who cancelled a run: an operator (the admin token) or the run's customer (its own token). */
export interface Cancellation {
  by: 'operator' | 'customer'
  reason?: string
}

export function runEvent(
  r: RunDims,
  action: RunAction,
  extra: { durationMs?: number; errorClass?: FailureClass; cancelled?: Cancellation } = {},
): NewEvent {
  return {
    type: 'run',
    action,
    customerId: r.customer_id,
    projectId: r.project_id,
    runId: r.id,
    runType: r.type,
    ...(extra.durationMs !== undefined ? { durationMs: Math.max(0, Math.round(extra.durationMs)) } : {}),
    ...(extra.errorClass ? { errorClass: extra.errorClass } : {}),
    ...(extra.cancelled ? { cancelledBy: extra.cancelled.by } : {}),
    ...(extra.cancelled?.reason ? { cancelReason: extra.cancelled.reason } : {}),
  }
}

/** A timestamptz (SQL) as the ISO-8601 string of an event's `ts` (UTC, milliseconds). */
const isoSql = (ts: string) => `to_char(${ts} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`

/** The optional `durationMs` of an event built in SQL, rounded as Math.round does (half up; round() is half even). */
const durationSql = (ms: string | undefined) =>
  ms === undefined ? '' : `, 'durationMs', greatest(0, floor((${ms})::float8 + 0.5))::bigint`

/**
 * `jobEvent(j, action, { workerId, durationMs })` built in SQL from a row `j` of job columns, at
 * `ts` (timestamptz), without its id: for a statement that appends the events of the rows it
 * changes (claim.ts, succeed.ts). test/orchestrator/statement-events.test.ts shows both build the
 * same event.
 */
export const jobEventSql = (
  j: string,
  action: JobAction,
  at: { workerId: string; ts: string; durationMs?: string },
): string =>
  `jsonb_build_object('type', 'job', 'action', '${action}', 'customerId', ${j}.customer_id,
    'projectId', ${j}.project_id, 'runId', ${j}.run_id, 'runType', ${j}.run_type, 'jobId', ${j}.id,
    'stepKey', ${j}.step_key, 'kind', ${j}.kind, 'pool', ${j}.pool, 'attempt', least(${j}.attempt, 65535),
    'workerId', ${at.workerId}, 'ts', ${isoSql(at.ts)}${durationSql(at.durationMs)})`

/** `runEvent(r, action, { durationMs })` in SQL, as `jobEventSql`, from a row `r` with the run's dimensions as a job row has them. */
export const runEventSql = (r: string, action: RunAction, at: { ts: string; durationMs?: string }): string =>
  `jsonb_build_object('type', 'run', 'action', '${action}', 'customerId', ${r}.customer_id,
    'projectId', ${r}.project_id, 'runId', ${r}.run_id, 'runType', ${r}.run_type,
    'ts', ${isoSql(at.ts)}${durationSql(at.durationMs)})`
