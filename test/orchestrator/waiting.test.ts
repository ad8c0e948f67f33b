// Why a job is not running: GET /v1/runs/{id} and GET /v1/jobs/{id} explain each blocked or queued
// job (dependencies, backoff, no live worker in its pool, a concurrency cap, its place in the queue)
// and say nothing once it runs.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startTestSteward, type TestSteward } from '../helpers/app.ts'
import { fastConfig, type Json, run, step, submit } from './helpers.ts'

let s: TestSteward
const customers = { acme: {}, capped: { perPool: { default: 1 } }, runcap: { perRun: 1 }, other: {} }

beforeAll(async () => {
  // One worker of 3 slots on pool "default"; noop runs in pool "idle", which no worker serves.
  s = await startTestSteward({
    file: {
      orchestrator: fastConfig({
        workers: 1,
        concurrency: 3,
        kindPools: { noop: 'idle' },
        retry: { maxAttempts: 4, backoffMs: 20, maxBackoffMs: 3_600_000 },
      }),
    },
  })
  for (const [id, concurrency] of Object.entries(customers)) {
    expect((await s.api('POST', '/v1/customers', { id, name: id })).status).toBe(201)
    const res = await s.api('PATCH', `/v1/customers/${id}`, { settings: { concurrency } })
    expect(res.status).toBe(200)
  }
})
afterAll(async () => {
  await s?.stop()
})

const job = async (id: string): Promise<Json> => {
  const res = await s.api('GET', `/v1/jobs/${id}`)
  expect(res.status).toBe(200)
  return res.json()
}
const detail = async (id: string): Promise<Json> => (await s.api('GET', `/v1/runs/${id}`)).json()

/** Polls a job until `ok` holds. */
async function jobWhen(id: string, ok: (j: Json) => boolean): Promise<Json> {
  for (;;) {
    const j = await job(id)
    if (ok(j)) return j
    await new Promise((r) => setTimeout(r, 25))
  }
}

const long = { kind: 'sleep', input: { ms: 60_000 } }

describe('why a job is not running', () => {
  it('names the steps a blocked job waits for, and a pool no live worker serves', async () => {
    const id = await submit(
      s,
      run([
        { key: 'a', kind: 'noop' },
        { key: 'b', kind: 'noop', dependsOn: ['a'] },
      ]),
    )
    const r = await detail(id)
    expect(step(r, 'a').waiting).toMatchObject({ reason: 'no_worker', pool: 'idle' })
    expect(step(r, 'b').waiting).toMatchObject({ reason: 'dependencies', steps: ['a'] })
    expect((await job(step(r, 'b').jobId)).waiting).toEqual(step(r, 'b').waiting)
  })

  it('gives the end of the backoff of a job waiting to be retried', async () => {
    const id = await submit(
      s,
      run([
        {
          key: 'x',
          kind: 'simulate',
          input: { failTimes: 1 },
          retry: { maxAttempts: 3, backoffMs: 3_600_000 },
        },
      ]),
    )
    const jobId = step(await detail(id), 'x').jobId
    const j = await jobWhen(jobId, (x) => x.status === 'queued' && x.attempt === 1)
    expect(j.waiting).toMatchObject({ reason: 'backoff', until: j.runAt })
  })

  it("names the cap that holds a job back: its customer's in the pool, or its run's", async () => {
    // Fills the worker's 3 slots: one job each of capped, runcap and other.
    const capped = [await submit(s, run([{ key: 'x', ...long }], { customerId: 'capped' }))]
    capped.push(await submit(s, run([{ key: 'x', ...long }], { customerId: 'capped' })))
    const wide = await submit(
      s,
      run(
        [
          { key: 'x', ...long },
          { key: 'y', ...long },
        ],
        { customerId: 'runcap' },
      ),
    )
    await submit(s, run([{ key: 'x', ...long }], { customerId: 'other' }))
    const running = async () =>
      (
        await s.deps.pool.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM jobs WHERE pool = 'default' AND status = 'running'`,
        )
      ).rows[0]!.n
    while ((await running()) < 3) await new Promise((r) => setTimeout(r, 25))
    const [first, second] = await Promise.all(capped.map(detail))
    const waitingCapped = [first, second].map((r) => step(r, 'x')).find((j) => j.status === 'queued')
    expect(waitingCapped.waiting).toMatchObject({
      reason: 'concurrency_cap',
      cap: 'perPool',
      limit: 1,
      running: 1,
    })
    const steps = (await detail(wide)).steps as Json[]
    expect(steps.filter((j) => j.status === 'running')).toHaveLength(1)
    expect(steps.find((j) => j.status === 'queued').waiting).toMatchObject({
      reason: 'concurrency_cap',
      cap: 'perRun',
      limit: 1,
      running: 1,
    })
    expect(steps.find((j) => j.status === 'running').waiting).toBeNull()
  })

  it('counts the ready jobs ahead of a queued job, and their customers', async () => {
    // Every slot is busy (the test before). other has 2 more ready jobs; acme submits 3.
    for (let i = 0; i < 2; i++) await submit(s, run([{ key: 'x', ...long }], { customerId: 'other' }))
    const acme: string[] = []
    for (let i = 0; i < 3; i++)
      acme.push(await submit(s, run([{ key: 'x', ...long }], { customerId: 'acme' })))
    const [next, , third] = await Promise.all(acme.map(async (id) => step(await detail(id), 'x').waiting))
    // acme runs nothing: its first job comes next (capped and runcap are at their caps).
    expect(next).toMatchObject({ reason: 'queue', jobsAhead: 0, customers: 0 })
    // Its third: its own two, and other's two (other runs one job already; ties counted ahead).
    expect(third).toMatchObject({ reason: 'queue', jobsAhead: 4, customers: 2 })
    expect(third.detail).toBe('behind 4 ready jobs of 2 customers in pool "default"')
  })
})
