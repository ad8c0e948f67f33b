// /v1/queues and /v1/workers: the autoscaling signal over HTTP and as Prometheus gauges, for the
// admin only.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startTestSteward, type TestSteward } from '../../helpers/app.ts'
import { fastConfig, type Json, run, submit, waitForRun } from '../helpers.ts'

let s: TestSteward
let acme: string
beforeAll(async () => {
  s = await startTestSteward({ file: { orchestrator: fastConfig() } })
  expect((await s.api('POST', '/v1/customers', { id: 'acme', name: 'Acme' })).status).toBe(201)
  acme = ((await (await s.api('POST', '/v1/customers/acme/tokens', {})).json()) as { token: string }).token
})
afterAll(async () => {
  await s?.stop()
})

describe('what works', () => {
  it('reports queues and workers over HTTP and as Prometheus gauges', async () => {
    // A finished job, so this process's counters have a sample.
    expect((await waitForRun(s, await submit(s, run([{ key: 'x', kind: 'noop' }])))).status).toBe('succeeded')
    const queues = (await (await s.api('GET', '/v1/queues')).json()) as Json
    const def = queues.items.find((q: Json) => q.pool === 'default')
    expect(def).toMatchObject({ liveWorkers: 1, depth: 0 })
    const workers = (await (await s.api('GET', '/v1/workers')).json()) as Json
    expect(workers.items).toHaveLength(1)
    expect(workers.items[0]).toMatchObject({ pool: 'default', status: 'live', concurrency: 4 })
    const metrics = await (await s.fetch(new Request('http://steward.test/metrics'))).text()
    expect(metrics).toMatch(/steward_workers_live\{pool="default"\} 1/)
    expect(metrics).toMatch(
      /steward_jobs_processed_total\{pool="default",kind="noop",outcome="succeeded"\} \d+/,
    )
    expect(metrics).toContain('steward_job_duration_seconds_bucket')
  })
})

describe('who is refused', () => {
  it('keeps queues and workers to the admin', async () => {
    expect((await s.api('GET', '/v1/queues', undefined, acme)).status).toBe(403)
    expect((await s.api('GET', '/v1/workers', undefined, acme)).status).toBe(403)
    expect((await s.api('GET', '/v1/queues')).status).toBe(200)
  })
})
