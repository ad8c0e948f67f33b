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
