// Customer controls (src/orchestrator/customer-controls.ts): a hold keeps a customer's runs that
// have not started queued while its started runs and other customers' runs go on; fallback mode
// runs the steps that declare a fallback as their fallback, and is undone for steps not started.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { OrchestratorModule } from '../../src/orchestrator/index.ts'
import { startTestSteward, type TestSteward } from '../helpers/app.ts'
import { until } from '../helpers/until.ts'
import { fastConfig, getRun, type Json, run, step, submit, waitForRun } from './helpers.ts'

let s: TestSteward
let orchestrator: OrchestratorModule
const budget = {
  by: 'budget',
  detail: 'budget reached: total cost 10.00 USD of a 10.00 USD budget for 2026-11',
}

beforeAll(async () => {
  // Pool "default" has a worker; noop runs in pool "idle", which no worker serves.
  s = await startTestSteward({
    file: { orchestrator: fastConfig({ workers: 1, concurrency: 4, kindPools: { noop: 'idle' } }) },
  })
  orchestrator = s.modules.find((m) => m.name === 'orchestrator') as OrchestratorModule
  for (const id of ['acme', 'other'])
    expect((await s.api('POST', '/v1/customers', { id, name: id })).status).toBe(201)
})
afterAll(async () => {
  await s?.stop()
})

describe('a hold', () => {
  it("keeps a customer's new runs queued, says why, and lets its started runs and others' go on", async () => {
    const started = await submit(
      s,
      run([
        { key: 'first', kind: 'sleep', input: { ms: 400 } },
        { key: 'second', kind: 'simulate', dependsOn: ['first'] },
      ]),
    )
    await until(
      () => getRun(s, started),
      (r) => step(r, 'first').status === 'running',
      'running',
    )
    const held = await orchestrator.setCustomerControl('acme', { hold: budget, fallback: null })
    expect(held.hold).toMatchObject({ by: 'budget', detail: budget.detail })

    const fresh = await submit(s, run([{ key: 'only', kind: 'simulate' }]))
    const others = await submit(s, run([{ key: 'only', kind: 'simulate' }], { customerId: 'other' }))
    expect((await waitForRun(s, others)).status).toBe('succeeded')
    // The run that had started finishes, its second step claimed under the hold.
    expect((await waitForRun(s, started)).status).toBe('succeeded')
    const waiting = await getRun(s, fresh)
    expect(waiting.status).toBe('queued')
    expect(step(waiting, 'only').waiting).toEqual({
      reason: 'paused',
      by: 'budget',
      since: held.hold!.since,
      detail: budget.detail,
    })
    const job: Json = await (await s.api('GET', `/v1/jobs/${step(waiting, 'only').jobId}`)).json()
    expect(job.waiting.reason).toBe('paused')

    // Setting the same hold again keeps its start.
    const again = await orchestrator.setCustomerControl('acme', { hold: budget, fallback: null })
    expect(again.hold!.since).toBe(held.hold!.since)

    await orchestrator.setCustomerControl('acme', { hold: null, fallback: null })
    expect((await waitForRun(s, fresh)).status).toBe('succeeded')
    expect((await orchestrator.customerControl('acme')).hold).toBeNull()
  })
})

describe('fallback mode', () => {
  it('switches queued steps that declare a fallback, and steps of runs created while it is on', async () => {
    // Its own kind runs in pool "idle" (no worker): it waits until the mode switches it.
    const queued = await submit(
      s,
      run([
        { key: 'x', kind: 'noop', fallback: { kind: 'simulate' } },
        { key: 'plain', kind: 'noop' },
      ]),
    )
    expect(step(await getRun(s, queued), 'x').status).toBe('queued')
    await orchestrator.setCustomerControl('acme', { hold: null, fallback: budget })
    const r = await until(
      () => getRun(s, queued),
      (x) => step(x, 'x').status === 'succeeded',
      'succeeded',
    )
    expect(step(r, 'x')).toMatchObject({ kind: 'simulate', usingFallback: true, fallbackCause: 'mode' })
    // A step without a fallback is left as it was.
    expect(step(r, 'plain')).toMatchObject({ kind: 'noop', status: 'queued', usingFallback: false })

    const created = await submit(s, run([{ key: 'y', kind: 'noop', fallback: { kind: 'simulate' } }]))
    const done = await waitForRun(s, created)
    expect(step(done, 'y')).toMatchObject({ kind: 'simulate', fallbackCause: 'mode', status: 'succeeded' })
    // Another customer's steps are not switched.
    const theirs = await submit(
      s,
      run([{ key: 'z', kind: 'noop', fallback: { kind: 'simulate' } }], { customerId: 'other' }),
    )
    expect(step(await getRun(s, theirs), 'z')).toMatchObject({ kind: 'noop', usingFallback: false })
    await orchestrator.setCustomerControl('acme', { hold: null, fallback: null })
  })

  it('switches back the steps that have not started when it ends', async () => {
    // Its fallback runs in pool "idle": switched, it waits there; switched back, it runs.
    await orchestrator.setCustomerControl('acme', { hold: null, fallback: budget })
    const id = await submit(s, run([{ key: 'w', kind: 'simulate', fallback: { kind: 'noop' } }]))
    expect(step(await getRun(s, id), 'w')).toMatchObject({
      kind: 'noop',
      pool: 'idle',
      fallbackCause: 'mode',
    })
    await orchestrator.setCustomerControl('acme', { hold: null, fallback: null })
    const done = await waitForRun(s, id)
    expect(step(done, 'w')).toMatchObject({
      kind: 'simulate',
      pool: 'default',
      usingFallback: false,
      fallbackCause: null,
      status: 'succeeded',
    })
  })
})
