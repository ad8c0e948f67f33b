// What a handler gets beside its input: who it is (job, run, step, attempt, idempotency key, trace
// context), its signal, and the writes it may make under its lease: checkpoints, heartbeats and
// token usage. Once the signal has aborted, each throws the signal's reason without writing; a
// write PostgreSQL refuses (the lease is not live: progress.ts) aborts the signal and throws.
import type { Pool } from '../db/postgres.ts'
import { attemptTraceContext } from '../ingest/index.ts'
import { AbortReason } from './abort.ts'
import type { LeaseFence } from './fence.ts'
import type { JobContext } from './handlers.ts'
import { recordUsage, saveCheckpoint } from './progress.ts'
import { type Lease, leaseKey, renewLeases } from './queue.ts'

export function jobContext(
  pool: Pool,
  lease: Lease,
  leaseMs: number,
  ac: AbortController,
  fence: LeaseFence,
): JobContext {
  const { job, workerId } = lease
  const lost = () => ac.abort(new AbortReason('lost'))
  // A stopped handler (fenced, lost, cancelled, timed out) writes nothing more.
  const live = () => {
    if (ac.signal.aborted) throw ac.signal.reason
  }
  return {
    jobId: job.id,
    runId: job.run_id,
    stepKey: job.step_key,
    attempt: job.attempt,
    idempotencyKey: `${job.run_id}:${job.step_key}`,
    lastCheckpoint: job.checkpoint ?? undefined,
    signal: ac.signal,
    checkpoint: async (data) => {
      live()
      if (!(await saveCheckpoint(pool, lease, data))) lost()
      live()
    },
    heartbeat: async () => {
      live()
      const from = performance.now()
      const held = await renewLeases(pool, workerId, leaseMs, [job])
      if (held.has(leaseKey(job))) fence.renewed(from)
      else lost()
      live()
    },
    reportUsage: async (u) => {
      live()
      if (!(await recordUsage(pool, lease, u))) lost()
      live()
    },
    ...attemptTraceContext(job.run_id, job.id, job.attempt),
  }
}
