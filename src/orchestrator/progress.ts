// What a running handler writes before its result: checkpoints (`ctx.checkpoint`) and AI usage
// (`ctx.reportUsage`).
//
// Guarantees:
// - each write is fenced like a result, in its own statement: it happens only while the attempt is
//   the job's current one (`attempt`), `running`, leased to this worker, and the lease has not
//   expired. A worker cut off from PostgreSQL, a reclaimed or superseded attempt and a cancelled
//   job write nothing, and the caller is told (false);
// - usage locks its job row (FOR SHARE) while it is written, so a reclaim or a result of the same
//   job commits either before it (then nothing is written) or after it; the usage row and its
//   telemetry event commit together, or neither does.
import type { Pool } from '../db/postgres.ts'
import { appendEvents } from '../ingest/index.ts'
import type { Usage } from './handlers.ts'
import type { Lease } from './queue.ts'
import { retryingTransaction } from './settle.ts'
import { HELD_ATTEMPT } from './sql.ts'

const LIVE_LEASE = `${HELD_ATTEMPT} AND lease_expires_at > clock_timestamp()`

const SQL = {
  checkpoint: `UPDATE jobs SET checkpoint = $4 WHERE ${LIVE_LEASE}`,
  usage: `
    WITH live AS (SELECT id, run_id, attempt FROM jobs WHERE ${LIVE_LEASE} FOR SHARE)
    INSERT INTO job_usage (job_id, run_id, attempt, model, input_tokens, output_tokens,
                           cache_read_tokens, cache_write_tokens, reasoning_tokens)
    SELECT id, run_id, attempt, $4, $5, $6, $7, $8, $9 FROM live
    RETURNING id`,
}

/** Saves a handler's checkpoint on its job; false (nothing saved) when the lease is not live. */
export async function saveCheckpoint(pool: Pool, l: Lease, data: unknown): Promise<boolean> {
  const res = await pool.query(SQL.checkpoint, [
    l.job.id,
    l.workerId,
    l.job.attempt,
    JSON.stringify(data ?? null),
  ])
  return (res.rowCount ?? 0) > 0
}

/** Records a handler's AI usage and its telemetry event; false (nothing written) when the lease is not live. */
export async function recordUsage(pool: Pool, l: Lease, u: Usage): Promise<boolean> {
  const { job, workerId } = l
  const subsets = {
    cacheReadTokens: u.cacheReadTokens ?? 0,
    cacheWriteTokens: u.cacheWriteTokens ?? 0,
    reasoningTokens: u.reasoningTokens ?? 0,
  }
  return retryingTransaction(pool, async (c) => {
    const res = await c.query(SQL.usage, [
      job.id,
      workerId,
      job.attempt,
      u.model,
      u.inputTokens,
      u.outputTokens,
      subsets.cacheReadTokens,
      subsets.cacheWriteTokens,
      subsets.reasoningTokens,
    ])
    if (!res.rowCount) return false
    // The event validates the counts (subsets within their totals); a refusal rolls the row back.
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
        ...subsets,
      },
    ])
    return true
  })
}
