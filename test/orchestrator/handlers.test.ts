// Handlers are values: a kind is known to a process only when it is given to it. The server checks
// runs against the kinds passed to startSteward; its in-process workers run them; a worker without
// the kind treats the job as an infrastructure failure (re-queued for a worker that has it).
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { z } from 'zod'
import { createEgressPolicy } from '../../src/egress/index.ts'
import { defineHandler, handlerSet, Worker } from '../../src/orchestrator/index.ts'
import { startTestSteward, type TestSteward } from '../helpers/app.ts'
import { quietLog } from '../helpers/db.ts'
import { fastConfig, type Json, run, step, submit, waitForRun } from './helpers.ts'

const echo = defineHandler('app.echo', z.object({ say: z.string() }).strict(), (i, ctx) => ({
  said: i.say,
  attempt: ctx.attempt,
}))
// Defined, never given to the server: defining a kind registers nothing.
defineHandler('app.unlisted', z.unknown(), () => null)

const config = fastConfig({ workers: 0, maxReclaims: 1 })
let s: TestSteward
const workers: Worker[] = []
const startWorker = async (kinds = [echo]) => {
  const w = new Worker({
    pool: s.deps.pool,
    config,
    log: quietLog,
    handlers: handlerSet(createEgressPolicy(), kinds),
  })
  workers.push(w)
  await w.start()
}

beforeAll(async () => {
  s = await startTestSteward({ file: { orchestrator: config }, handlers: [echo] })
  expect((await s.api('POST', '/v1/customers', { id: 'acme', name: 'Acme' })).status).toBe(201)
})
afterEach(async () => {
  await Promise.all(workers.map((w) => w.stop(0)))
  workers.length = 0
})
afterAll(async () => {
  await s?.stop()
})

describe('application kinds', () => {
  it('are validated by the server and run by a worker given them', async () => {
    const id = await submit(s, run([{ key: 'x', kind: 'app.echo', input: { say: 'hi' } }]))
    await startWorker()
    const r = await waitForRun(s, id)
    expect(r.status).toBe('succeeded')
    expect(step(r, 'x').output).toEqual({ said: 'hi', attempt: 1 })
  })

  it("are checked against the kind's input schema at submission", async () => {
    const res = await s.api('POST', '/v1/runs', run([{ key: 'x', kind: 'app.echo', input: { say: 1 } }]))
    expect(res.status).toBe(400)
    expect(((await res.json()) as Json).errors.map((e: Json) => e.path)).toEqual(['steps.0.input.say'])
  })

  it('are unknown to the server unless given to it', async () => {
    const res = await s.api('POST', '/v1/runs', run([{ key: 'x', kind: 'app.unlisted' }]))
    expect(res.status).toBe(400)
    expect(((await res.json()) as Json).errors).toEqual([
      expect.objectContaining({ path: 'steps.0.kind', message: 'unknown job kind "app.unlisted"' }),
    ])
  })

  it('fail as infrastructure on a worker that lacks them, and dead-letter past maxReclaims', async () => {
    const id = await submit(s, run([{ key: 'x', kind: 'app.echo', input: { say: 'hi' } }]))
    await startWorker([])
    const r = await waitForRun(s, id)
    expect(r).toMatchObject({ status: 'failed', errorClass: 'infrastructure' })
    const job = step(r, 'x')
    expect(job).toMatchObject({ status: 'dead', reclaims: 2, failures: 0 })
    expect(job.attempts.map((a: Json) => [a.outcome, a.errorClass, a.error])).toEqual([
      ['reclaimed', 'infrastructure', 'this worker has no handler for kind "app.echo"'],
      ['dead_lettered', 'infrastructure', 'this worker has no handler for kind "app.echo"'],
    ])
  })
})
