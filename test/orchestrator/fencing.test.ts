// Leases fenced locally: a worker cut off from PostgreSQL (its pool goes through a TCP proxy that
// stops forwarding) aborts its handler before the job's lease expires, writes nothing of that
// attempt, and another worker reclaims the job and runs it as attempt 2.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { z } from 'zod'
import { createPool } from '../../src/db/postgres.ts'
import { createEgressPolicy } from '../../src/egress/index.ts'
import { defineHandler, handlerSet, JobError, Worker } from '../../src/orchestrator/index.ts'
import { startTestSteward, type TestSteward } from '../helpers/app.ts'
import { quietLog } from '../helpers/db.ts'
import { tcpProxy } from '../helpers/tcp-proxy.ts'
import { deferred, fastConfig, type Json, run, step, submit, waitForRun } from './helpers.ts'

// Fence at 1.5 s of a 2 s lease. Nobody sweeps expired leases until the second worker starts, so
// the lease the test reads after the abort is the one the cut-off worker last renewed.
const config = fastConfig({
  workers: 0,
  leaseMs: 2_000,
  heartbeatMs: 250,
  leaseFenceMarginMs: 500,
  reclaimEveryMs: 600_000,
})

interface Stopped {
  at: Date
  reason: unknown
  /** What each write the handler tried after its abort gave: 'written' or the error's message. */
  writes: Record<'usage' | 'heartbeat' | 'checkpoint', string>
}
const started = deferred()
const stopped = deferred<Stopped>()

// Attempt 1 waits for its signal, then carries on as if nothing happened and tries to write.
// Attempt 2 reports usage and succeeds.
const partitioned = defineHandler('test.partitioned', z.object({}).strict(), async (_i, ctx) => {
  if (ctx.attempt > 1) {
    await ctx.reportUsage({ model: 'test-model', inputTokens: 7, outputTokens: 3 })
    return { from: ctx.attempt }
  }
  started.resolve()
  if (!ctx.signal.aborted)
    await new Promise<void>((r) => ctx.signal.addEventListener('abort', () => r(), { once: true }))
  const at = new Date()
  const outcome = (p: Promise<void>) =>
    p.then(
      () => 'written',
      (e: Error) => e.message,
    )
  const writes = {
    usage: await outcome(ctx.reportUsage({ model: 'test-model', inputTokens: 1_000, outputTokens: 1_000 })),
    heartbeat: await outcome(ctx.heartbeat()),
    checkpoint: await outcome(ctx.checkpoint({ by: 'the cut-off worker' })),
  }
  stopped.resolve({ at, reason: ctx.signal.reason, writes })
  return { from: 1 }
})

const handlers = handlerSet(createEgressPolicy(), [partitioned])
let s: TestSteward

beforeAll(async () => {
  s = await startTestSteward({
    file: { orchestrator: config, ingest: { relay: { enabled: false }, heartbeatIntervalMs: 0 } },
    handlers: [partitioned],
  })
  expect((await s.api('POST', '/v1/customers', { id: 'acme', name: 'Acme' })).status).toBe(201)
})
afterAll(async () => {
  await s?.stop()
})

describe('a worker cut off from PostgreSQL', () => {
  it('aborts its handler before the lease expires; the job runs again elsewhere as attempt 2', async () => {
    const proxy = await tcpProxy(new URL(s.postgres.url))
    const viaProxy = new URL(s.postgres.url)
    viaProxy.host = `127.0.0.1:${proxy.port}`
    const cutPool = createPool(viaProxy.toString(), {
      max: 4,
      limits: { connectTimeoutMs: 60_000, statementTimeoutMs: 60_000 },
    })
    const cutOff = new Worker({ pool: cutPool, config, log: quietLog, concurrency: 1, handlers })
    let other: Worker | undefined
    try {
      await cutOff.start()
      const id = await submit(s, run([{ key: 'x', kind: 'test.partitioned', input: {} }]))
      await started.promise
      proxy.cut()

      // Whichever comes first: the handler's abort, or the lease expiring in the database.
      let expired = false
      const leaseExpired = async () => {
        const q = `SELECT lease_expires_at <= clock_timestamp() AS expired FROM jobs WHERE run_id = $1`
        while (!expired && !(await s.deps.pool.query(q, [id])).rows[0].expired)
          await new Promise((r) => setTimeout(r, 20))
        return 'lease expired'
      }
      const first = await Promise.race([stopped.promise.then(() => 'handler aborted'), leaseExpired()])
      expired = true
      expect(first).toBe('handler aborted')
      const { at, reason, writes } = await stopped.promise
      // The lease as the database holds it: nobody can renew it (cut off) nor reclaim it (no sweep).
      const lease = (
        await s.deps.pool.query(
          `SELECT status, attempt, lease_owner, lease_expires_at FROM jobs WHERE run_id = $1`,
          [id],
        )
      ).rows[0]
      expect(lease).toMatchObject({ status: 'running', attempt: 1, lease_owner: cutOff.id })
      expect(at.getTime()).toBeLessThan(lease.lease_expires_at.getTime())
      expect(reason).toBeInstanceOf(JobError)
      expect(reason).toMatchObject({ failureClass: 'infrastructure' })
      expect((reason as Error).message).toMatch(/^lease not renewed for \d+ ms/)
      // Every write after the abort is refused at once (a round trip would hang: nothing is forwarded).
      expect(writes).toEqual({
        usage: (reason as Error).message,
        heartbeat: (reason as Error).message,
        checkpoint: (reason as Error).message,
      })
      expect(cutOff.inFlight).toBe(0)

      other = new Worker({
        pool: s.deps.pool,
        config: { ...config, reclaimEveryMs: 100 },
        log: quietLog,
        concurrency: 1,
        handlers,
      })
      await other.start()
      const done = await waitForRun(s, id)
      expect(done.status).toBe('succeeded')
      const x = step(done, 'x')
      expect(x.attempt).toBe(2)
      expect(x.output).toEqual({ from: 2 })
      expect(x.attempts.map((a: Json) => [a.attempt, a.outcome, a.workerId])).toEqual([
        [1, 'lost', cutOff.id],
        [2, 'succeeded', other.id],
      ])
      // The abort came before the lease expired, which came before the reclaim and attempt 2.
      expect(Date.parse(x.attempts[0].finishedAt)).toBeGreaterThanOrEqual(lease.lease_expires_at.getTime())
      expect(Date.parse(x.attempts[1].startedAt)).toBeGreaterThan(at.getTime())

      // Usage: attempt 2's only, as rows and as telemetry; no checkpoint of the cut-off handler.
      const usage = await s.deps.pool.query(
        `SELECT attempt, input_tokens FROM job_usage WHERE run_id = $1 ORDER BY id`,
        [id],
      )
      expect(usage.rows).toEqual([{ attempt: 2, input_tokens: 7 }])
      const events = await s.deps.pool.query(
        `SELECT body FROM telemetry_outbox WHERE body->>'runId' = $1 AND body->>'type' = 'usage'`,
        [id],
      )
      expect(events.rows.map((r) => r.body.inputTokens)).toEqual([7])
      const job = await s.deps.pool.query(`SELECT checkpoint FROM jobs WHERE run_id = $1`, [id])
      expect(job.rows[0].checkpoint).toBeNull()
    } finally {
      // Connections through the proxy fail now, so the cut-off worker's pending statements end.
      await proxy.close()
      await cutOff.stop(0)
      await other?.stop(0)
      await cutPool.end()
    }
  })
})
