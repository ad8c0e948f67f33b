// Operator actions and queue order: priority, idempotency, resume, per-job retry, cancel.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { z } from 'zod'
import { createEgressPolicy } from '../../src/egress/index.ts'
import { defineHandler, handlerSet, JobValidationError, Worker } from '../../src/orchestrator/index.ts'
import { startTestSteward, type TestSteward } from '../helpers/app.ts'
import { quietLog } from '../helpers/db.ts'
import { fastConfig, getRun, type Json, run, step, submit, waitForRun } from './helpers.ts'

// No in-process workers: each test starts the workers it needs, after queuing its runs.
const config = fastConfig({ workers: 0 })
let s: TestSteward
let workers: Worker[] = []

const seenCheckpoints: unknown[] = []
const checkpointing = defineHandler(
  'test.checkpointing',
  z.object({ failOnAttempt: z.number() }),
  async (i, ctx) => {
    seenCheckpoints.push(ctx.lastCheckpoint)
    await ctx.checkpoint({ savedBy: ctx.attempt })
    if (ctx.attempt === i.failOnAttempt) throw new JobValidationError('bad data on this attempt')
    return { resumedFrom: ctx.lastCheckpoint ?? null }
  },
)

let firstAttemptFinished = false
const slowFirst = defineHandler('test.slowFirst', z.unknown(), async (_i, ctx) => {
  if (ctx.attempt === 1) {
    // Ignores its signal on purpose: a handler that cannot be interrupted. It outlives its lease by
    // far, so attempt 2 runs (and commits) while it is still busy.
    await new Promise((r) => setTimeout(r, 3_000))
    firstAttemptFinished = true
  }
  return { from: ctx.attempt }
})

// The application kinds of this test: the server validates runs against them, the workers run them.
const testKinds = [checkpointing, slowFirst]
const handlers = handlerSet(createEgressPolicy(), testKinds)
const startWorker = async (concurrency = 4) => {
  const w = new Worker({ pool: s.deps.pool, config, log: quietLog, concurrency, handlers })
  await w.start()
  workers.push(w)
  return w
}

beforeAll(async () => {
  // The relay stays off: the telemetry test reads the outbox, which a relay would race under load.
  s = await startTestSteward({
    file: { orchestrator: config, ingest: { relay: { enabled: false }, heartbeatIntervalMs: 0 } },
    handlers: testKinds,
  })
  expect((await s.api('POST', '/v1/customers', { id: 'acme', name: 'Acme' })).status).toBe(201)
})
afterEach(async () => {
  await Promise.all(workers.map((w) => w.stop(0)))
  workers = []
})
afterAll(async () => {
  await s?.stop()
})

describe('queue order', () => {
  it('starts higher-priority runs first, then the oldest', async () => {
    const ids: Record<string, string> = {}
    for (const [name, priority] of [
      ['low', -5],
      ['mid1', 0],
      ['high', 10],
      ['mid2', 0],
    ] as const)
      ids[name] = await submit(s, run([{ key: 'x', kind: 'noop' }], { priority }))
    await startWorker(1)
    const started: [string, number][] = []
    for (const [name, id] of Object.entries(ids)) {
      const r = await waitForRun(s, id)
      started.push([name, Date.parse(step(r, 'x').attempts[0].startedAt)])
    }
    started.sort((a, b) => a[1] - b[1])
    expect(started.map(([n]) => n)).toEqual(['high', 'mid1', 'mid2', 'low'])
  })
})

describe('idempotency keys', () => {
  it('return the first run for a repeated key of the same customer', async () => {
    const body = run([{ key: 'x', kind: 'noop' }], { idempotencyKey: 'order-42' })
    const first = await s.api('POST', '/v1/runs', body)
    const second = await s.api('POST', '/v1/runs', body)
    expect(first.status).toBe(201)
    expect(second.status).toBe(200)
    expect(((await second.json()) as Json).id).toBe(((await first.json()) as Json).id)
    const { rows } = await s.deps.pool.query(
      `SELECT count(*)::int AS n FROM runs WHERE idempotency_key = 'order-42'`,
    )
    expect(rows[0].n).toBe(1)
  })
})

describe('resume', () => {
  it('re-runs only failed and never-run steps, handing back the last checkpoint', async () => {
    seenCheckpoints.length = 0
    const id = await submit(
      s,
      run([
        { key: 'fetch', kind: 'noop' },
        { key: 'train', kind: 'test.checkpointing', input: { failOnAttempt: 1 }, dependsOn: ['fetch'] },
        { key: 'ship', kind: 'noop', dependsOn: ['train'] },
      ]),
    )
    await startWorker()
    const failed = await waitForRun(s, id)
    expect(failed.status).toBe('failed')
    expect(step(failed, 'ship').status).toBe('blocked')
    expect((await s.api('POST', `/v1/runs/${id}/resume`)).status).toBe(200)
    const done = await waitForRun(s, id, ['succeeded', 'failed'])
    expect(done.status).toBe('succeeded')
    expect(step(done, 'fetch').attempt).toBe(1)
    expect(step(done, 'train').attempt).toBe(2)
    expect(step(done, 'ship').attempt).toBe(1)
    expect(seenCheckpoints).toEqual([undefined, { savedBy: 1 }])
    expect(step(done, 'train').output).toEqual({ resumedFrom: { savedBy: 1 } })
  })

  it('refuses to resume a run that has not failed', async () => {
    const id = await submit(s, run([{ key: 'x', kind: 'noop' }]))
    expect((await s.api('POST', `/v1/runs/${id}/resume`)).status).toBe(409)
  })
})

describe('per-job retry', () => {
  it('re-queues one failed job and completes the run', async () => {
    const id = await submit(
      s,
      run([{ key: 'x', kind: 'simulate', input: { failTimes: 1, failWith: 'validation' } }]),
    )
    await startWorker()
    const failed = await waitForRun(s, id)
    expect(failed.status).toBe('failed')
    const jobId = step(failed, 'x').jobId
    expect((await s.api('POST', `/v1/jobs/${jobId}/retry`)).status).toBe(200)
    const done = await waitForRun(s, id, ['succeeded'])
    expect(step(done, 'x').attempt).toBe(2)
    expect((await s.api('POST', `/v1/jobs/${jobId}/retry`)).status).toBe(409)
  })
})

describe('cancel', () => {
  it('stops queued jobs and aborts running ones', async () => {
    const id = await submit(
      s,
      run([
        { key: 'long', kind: 'sleep', input: { ms: 60_000 } },
        { key: 'after', kind: 'noop', dependsOn: ['long'] },
      ]),
    )
    const w = await startWorker()
    await waitForRun(s, id, ['running'])
    for (let i = 0; i < 100 && w.inFlight === 0; i++) await new Promise((r) => setTimeout(r, 20))
    expect(w.inFlight).toBe(1)
    const res = await s.api('POST', `/v1/runs/${id}/cancel`)
    expect(res.status).toBe(200)
    for (let i = 0; i < 100 && w.inFlight > 0; i++) await new Promise((r) => setTimeout(r, 20))
    expect(w.inFlight).toBe(0)
    const r = await getRun(s, id)
    expect(r.status).toBe('cancelled')
    expect(r.steps.map((j: Json) => j.status)).toEqual(['cancelled', 'cancelled'])
    expect(step(r, 'long').attempts[0].outcome).toBe('cancelled')
    expect(step(r, 'long').output).toBeNull()
  })
})

describe('who cancelled', () => {
  const cancelled = async (id: string) => {
    const { rows: run } = await s.deps.pool.query(
      'SELECT cancelled_by, cancelled_actor, cancel_reason FROM runs WHERE id = $1',
      [id],
    )
    const { rows: events } = await s.deps.pool.query(
      `SELECT body FROM telemetry_outbox WHERE body->>'runId' = $1 AND body->>'type' = 'run'
         AND body->>'action' = 'cancelled' ORDER BY seq`,
      [id],
    )
    return { run: run[0], events: events.map((e) => e.body) }
  }

  it('records an operator (the admin token) and the reason, on the run and on its telemetry event', async () => {
    const id = await submit(s, run([{ key: 'x', kind: 'noop' }]))
    const res = await s.api('POST', `/v1/runs/${id}/cancel`, { reason: 'runaway loop on worker 3' })
    expect(res.status).toBe(200)
    const c = await cancelled(id)
    expect(c.run).toEqual({
      cancelled_by: 'operator',
      cancelled_actor: 'admin',
      cancel_reason: 'runaway loop on worker 3',
    })
    expect(c.events).toEqual([
      expect.objectContaining({ cancelledBy: 'operator', cancelReason: 'runaway loop on worker 3' }),
    ])
  })

  it('records the customer when its own token cancels, without a reason; a resume clears it', async () => {
    const token = ((await (await s.api('POST', '/v1/customers/acme/tokens', {})).json()) as Json).token
    const id = await submit(s, run([{ key: 'x', kind: 'noop' }]))
    expect((await s.api('POST', `/v1/runs/${id}/cancel`, undefined, token)).status).toBe(200)
    const c = await cancelled(id)
    expect(c.run).toMatchObject({ cancelled_by: 'customer', cancel_reason: null })
    expect(c.run.cancelled_actor).toMatch(/^customer:acme\/token:\d+$/)
    expect(c.events).toHaveLength(1)
    expect(c.events[0].cancelledBy).toBe('customer')
    expect(c.events[0]).not.toHaveProperty('cancelReason')
    // A second cancel is a no-op: the first canceller stays.
    expect((await s.api('POST', `/v1/runs/${id}/cancel`, { reason: 'again' })).status).toBe(200)
    expect((await cancelled(id)).run.cancelled_by).toBe('customer')
    expect((await s.api('POST', `/v1/runs/${id}/resume`)).status).toBe(200)
    expect((await cancelled(id)).run).toEqual({
      cancelled_by: null,
      cancelled_actor: null,
      cancel_reason: null,
    })
  })
})

describe('telemetry', () => {
  it('writes every state change of a run to the outbox', async () => {
    const id = await submit(s, run([{ key: 'x', kind: 'simulate', input: { failTimes: 1 } }]))
    await startWorker()
    await waitForRun(s, id)
    const { rows } = await s.deps.pool.query(
      `SELECT body FROM telemetry_outbox WHERE body->>'runId' = $1 ORDER BY seq`,
      [id],
    )
    const seen = rows.map((r) => `${r.body.type}:${r.body.action}`)
    expect(seen).toEqual([
      'run:created',
      'run:started',
      'job:started',
      'job:retried',
      'job:started',
      'job:succeeded',
      'run:succeeded',
    ])
    const retried = rows[3].body
    expect(retried).toMatchObject({
      customerId: 'acme',
      projectId: 'web',
      runType: 'build',
      errorClass: 'transient',
      attempt: 1,
    })
  })
})

describe('lost leases', () => {
  it('never writes the result of an attempt whose lease expired', async () => {
    // This worker never renews its leases: its fence aborts attempt 1 (1.5 s) before the lease
    // expires (2 s), the job is reclaimed and runs again as attempt 2 while attempt 1 (which
    // ignores its signal) is still busy. The fence leaves attempt 2 (which returns at once) ample
    // time to finish on a loaded machine.
    const stale = new Worker({
      pool: s.deps.pool,
      config: { ...config, leaseMs: 2_000, heartbeatMs: 600_000, reclaimEveryMs: 100 },
      log: quietLog,
      concurrency: 2,
      handlers,
    })
    await stale.start()
    workers.push(stale)
    const id = await submit(s, run([{ key: 'x', kind: 'test.slowFirst' }]))
    const r = await waitForRun(s, id)
    expect(r.status).toBe('succeeded')
    // Attempt 1 finishes later; its result was abandoned with its signal and is never written.
    for (const until = Date.now() + 10_000; !firstAttemptFinished && Date.now() < until; )
      await new Promise((res) => setTimeout(res, 50))
    expect(firstAttemptFinished).toBe(true)
    expect(stale.inFlight).toBe(0)
    const after = await getRun(s, id)
    expect(step(after, 'x').output).toEqual({ from: 2 })
    expect(step(after, 'x').attempts.map((a: Json) => a.outcome)).toEqual(['lost', 'succeeded'])
  })
})
