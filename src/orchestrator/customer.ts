// One customer's view of the orchestrator, for the customer portal (src/portal): its recent runs
// with the steps that failed, the pools its work runs in, and resuming one of its own runs.
//
// Guarantees: every statement is scoped by the customer id it is given; a run of another customer
// is "not found" (NotFoundError), exactly as GET /v1/runs/:id answers a customer token.
import type { Pool, Queryable } from '../db/postgres.ts'
import { resumeRun } from './control.ts'
import { listRuns } from './runs.ts'
import type { FailureClass, JobStatus, ResumedRun, Run } from './schemas.ts'

const SQL = {
  failedSteps: `
    SELECT run_id, step_key, kind, status, error_class, last_error, attempt
    FROM jobs WHERE run_id = ANY ($1::text[]) AND customer_id = $2 AND status IN ('failed', 'dead')
    ORDER BY run_id, step_key`,
  // Pools with this customer's work now, or with its jobs created in the last `$2` hours.
  pools: `
    SELECT pool,
           count(*) FILTER (WHERE status = 'queued' AND run_at <= now())::int AS ready,
           count(*) FILTER (WHERE status = 'running')::int AS running,
           coalesce(extract(epoch FROM now() - min(run_at) FILTER (WHERE status = 'queued' AND run_at <= now())), 0)::float8 AS age
    FROM jobs WHERE customer_id = $1 AND (status IN ('queued', 'running') OR created_at > now() - $2::int * interval '1 hour')
    GROUP BY pool ORDER BY pool`,
}

interface FailedStep {
  key: string
  kind: string
  /** failed, or dead (in the dead-letter queue). */
  status: Extract<JobStatus, 'failed' | 'dead'>
  errorClass: FailureClass | null
  error: string | null
  attempts: number
}

export type CustomerRun = Run & { failedSteps: FailedStep[] }

/** The customer's newest runs (all statuses), each failed one with the steps that failed. */
export async function customerRuns(db: Queryable, customerId: string, limit: number): Promise<CustomerRun[]> {
  const runs = await listRuns(db, { customerId, limit })
  const failed = runs.filter((r) => r.status === 'failed').map((r) => r.id)
  const steps = new Map<string, FailedStep[]>()
  if (failed.length) {
    const { rows } = await db.query<{
      run_id: string
      step_key: string
      kind: string
      status: FailedStep['status']
      error_class: FailureClass | null
      last_error: string | null
      attempt: number
    }>(SQL.failedSteps, [failed, customerId])
    for (const r of rows)
      steps.set(r.run_id, [
        ...(steps.get(r.run_id) ?? []),
        {
          key: r.step_key,
          kind: r.kind,
          status: r.status,
          errorClass: r.error_class,
          error: r.last_error,
          attempts: r.attempt,
        },
      ])
  }
  return runs.map((r) => ({ ...r, failedSteps: steps.get(r.id) ?? [] }))
}

export interface CustomerPool {
  pool: string
  /** The customer's jobs ready to run now, and the age of the oldest. */
  ready: number
  oldestReadyAgeSeconds: number
  running: number
}

/** Pools the customer's work is in now or was in during the last `hours`. */
export async function customerPools(db: Queryable, customerId: string, hours = 24): Promise<CustomerPool[]> {
  const { rows } = await db.query<{ pool: string; ready: number; running: number; age: number }>(SQL.pools, [
    customerId,
    hours,
  ])
  return rows.map((r) => ({
    pool: r.pool,
    ready: r.ready,
    running: r.running,
    oldestReadyAgeSeconds: Math.max(0, r.age),
  }))
}

/** Resumes the customer's own failed or cancelled run (another customer's run: NotFoundError). */
export function resumeOwnRun(pool: Pool, customerId: string, runId: string): Promise<ResumedRun> {
  return resumeRun(pool, runId, (owner) => owner === customerId)
}
