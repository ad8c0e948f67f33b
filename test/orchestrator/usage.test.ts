// Usage (and checkpoints) fenced like results: written only while the attempt is the job's current
// one, running, leased to this worker and not expired; a stale attempt's report writes nothing (no
// usage row, no usage event) and its handler's reportUsage throws.
import { describe, expect, it } from 'vitest'
import { z } from 'zod'
import type { Pool } from '../../src/db/postgres.ts'
import { createEgressPolicy } from '../../src/egress/index.ts'
import { claimJobs } from '../../src/orchestrator/claim.ts'
import { createRun, defineHandler, handlerSet, Worker } from '../../src/orchestrator/index.ts'
import { reclaimExpired } from '../../src/orchestrator/leases.ts'
import { recordUsage, saveCheckpoint } from '../../src/orchestrator/progress.ts'
import { quietLog } from '../helpers/db.ts'
import { acmeDatabase, deferred, fastConfig } from './helpers.ts'

const started = deferred()
const gate = deferred()
const reported = deferred<{ error: unknown; reason: unknown }>()
// Attempt 1 waits for the test to take its lease away, then reports usage; later attempts report
// and succeed.
const metered = defineHandler(
  'test.metered',
  z.object({}).strict(),
  async (_i, ctx) => {
    if (ctx.attempt === 1) {
      started.resolve()
      await gate.promise
      const error = await ctx.reportUsage({ model: 'm', inputTokens: 1_000, outputTokens: 1 }).then(
        () => undefined,
        (e: unknown) => e,
      )
      reported.resolve({ error, reason: ctx.signal.reason })
      return { from: 1 }
    }
    await ctx.reportUsage({ model: 'm', inputTokens: 2, outputTokens: 1 })
    return { from: ctx.attempt }
  },
  { pool: 'metered' },
)

const config = fastConfig()
const handlers = handlerSet(createEgressPolicy(), [metered])
let pool: Pool
acmeDatabase((p) => {
  pool = p
})

const submit = (kind: string) =>
  createRun(pool, config, handlers, {
    customerId: 'acme',
    projectId: 'web',
    type: 'build',
    priority: 0,
    steps: [{ key: 'x', kind }],
  })
const usageOf = async (runId: string) => ({
  rows: (
    await pool.query(`SELECT attempt, input_tokens FROM job_usage WHERE run_id = $1 ORDER BY id`, [runId])
  ).rows,
  events: (
    await pool.query(
      `SELECT body->>'inputTokens' AS tokens FROM telemetry_outbox
       WHERE body->>'runId' = $1 AND body->>'type' = 'usage' ORDER BY seq`,
      [runId],
    )
  ).rows.map((r) => Number(r.tokens)),
})
const tokens = (inputTokens: number) => ({ model: 'm', inputTokens, outputTokens: 0 })

describe('usage of a stale attempt', () => {
  it('is written only under a live lease of the current attempt', async () => {
    const run = await submit('noop')
    const [a1] = await claimJobs(pool, 'default', 'w1', 1, 30_000)
    expect(await recordUsage(pool, { job: a1!, workerId: 'w1' }, tokens(1))).toBe(true)
    // Not the owner.
    expect(await recordUsage(pool, { job: a1!, workerId: 'w2' }, tokens(2))).toBe(false)
    // The lease expired; nobody reclaimed the job yet.
    await pool.query(`UPDATE jobs SET lease_expires_at = now() - interval '1 second' WHERE id = $1`, [a1!.id])
    expect(await recordUsage(pool, { job: a1!, workerId: 'w1' }, tokens(3))).toBe(false)
    expect(await saveCheckpoint(pool, { job: a1!, workerId: 'w1' }, { step: 3 })).toBe(false)
    // Reclaimed, then claimed again by another worker: attempt 1 is superseded.
    expect(await reclaimExpired(pool, 5)).toBe(1)
    expect(await recordUsage(pool, { job: a1!, workerId: 'w1' }, tokens(4))).toBe(false)
    const [a2] = await claimJobs(pool, 'default', 'w2', 1, 30_000)
    expect(a2!.attempt).toBe(2)
    expect(await recordUsage(pool, { job: a1!, workerId: 'w1' }, tokens(5))).toBe(false)
    expect(await recordUsage(pool, { job: a1!, workerId: 'w2' }, tokens(6))).toBe(false)
    expect(await recordUsage(pool, { job: a2!, workerId: 'w2' }, tokens(7))).toBe(true)
    expect(await saveCheckpoint(pool, { job: a2!, workerId: 'w2' }, { step: 7 })).toBe(true)

    expect(await usageOf(run.id)).toEqual({
      rows: [
        { attempt: 1, input_tokens: 1 },
        { attempt: 2, input_tokens: 7 },
      ],
      events: [1, 7],
    })
    const job = await pool.query(`SELECT checkpoint FROM jobs WHERE id = $1`, [a1!.id])
    expect(job.rows[0].checkpoint).toEqual({ step: 7 })
  })

  it('makes reportUsage throw after the lease was lost, writing nothing; the next attempt’s usage counts', async () => {
    // Leases far longer than the test and no renewal during it: only the database knows the lease
    // was taken away, so the refusal comes from the statement itself.
    const worker = new Worker({
      pool,
      config: { ...config, leaseMs: 120_000, heartbeatMs: 60_000, reclaimEveryMs: 60_000 },
      log: quietLog,
      poolName: 'metered',
      concurrency: 1,
      handlers,
    })
    await worker.start()
    try {
      const run = await submit('test.metered')
      await started.promise
      await pool.query(`UPDATE jobs SET lease_expires_at = now() - interval '1 second' WHERE run_id = $1`, [
        run.id,
      ])
      expect(await reclaimExpired(pool, 5)).toBe(1)
      gate.resolve()

      const { error, reason } = await reported.promise
      expect(error).toBe(reason)
      expect(error).toMatchObject({ why: 'lost', failureClass: 'infrastructure' })
      expect((error as Error).message).toMatch(/^lease lost/)

      // The worker takes the job again (attempt 2): its usage is the run's only usage.
      for (;;) {
        const r = await pool.query(`SELECT status FROM runs WHERE id = $1`, [run.id])
        if (r.rows[0].status === 'succeeded') break
        await new Promise((res) => setTimeout(res, 20))
      }
      expect(await usageOf(run.id)).toEqual({ rows: [{ attempt: 2, input_tokens: 2 }], events: [2] })
      const attempts = await pool.query(
        `SELECT attempt, outcome FROM job_attempts WHERE job_id = (SELECT id FROM jobs WHERE run_id = $1)
         ORDER BY attempt`,
        [run.id],
      )
      expect(attempts.rows).toEqual([
        { attempt: 1, outcome: 'lost' },
        { attempt: 2, outcome: 'succeeded' },
      ])
    } finally {
      await worker.stop(0)
    }
  })
})
