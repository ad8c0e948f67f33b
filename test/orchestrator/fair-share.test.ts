// Fair share inside a pool: a customer's backlog does not hold back another customer's runs, and
// while every customer has a backlog the pool is shared by their weights.
import { afterEach, describe, expect, it } from 'vitest'
import { createEgressPolicy } from '../../src/egress/index.ts'
import { handlerSet, Worker } from '../../src/orchestrator/index.ts'
import { startTestSteward, type TestSteward } from '../helpers/app.ts'
import { fastConfig, type Json, run, submit, waitForRun } from './helpers.ts'

let s: TestSteward | undefined
const workers: Worker[] = []
afterEach(async () => {
  await Promise.all(workers.splice(0).map((w) => w.stop(1_000)))
  await s?.stop()
  s = undefined
})

/** Starts `n` workers of `concurrency` slots on pool "default" (once the test's runs are queued). */
async function startWorkers(t: TestSteward, n: number, concurrency: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    const w = new Worker({
      pool: t.deps.pool,
      config: fastConfig(),
      log: t.deps.log,
      concurrency,
      handlers: handlerSet(createEgressPolicy()),
    })
    await w.start()
    workers.push(w)
  }
}

async function customer(t: TestSteward, id: string, settings: Record<string, unknown> = {}) {
  expect((await t.api('POST', '/v1/customers', { id, name: id })).status).toBe(201)
  if (Object.keys(settings).length)
    expect((await t.api('PATCH', `/v1/customers/${id}`, { settings })).status).toBe(200)
}

/** One run of `n` parallel steps of `kind`. */
const wide = (customerId: string, n: number, step: Record<string, unknown>, priority = 0) =>
  run(
    Array.from({ length: n }, (_, i) => ({ key: `s${i}`, ...step })),
    { customerId, priority },
  )

const queuedOf = async (t: TestSteward, customerId: string) =>
  (
    await t.deps.pool.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM jobs WHERE customer_id = $1 AND status = 'queued'`,
      [customerId],
    )
  ).rows[0]!.n

describe('a flood from one customer', () => {
  it("finishes another customer's runs while the flood's backlog is still thousands deep", async () => {
    s = await startTestSteward({ file: { orchestrator: fastConfig({ workers: 2, concurrency: 4 }) } })
    await customer(s, 'noisy')
    await customer(s, 'quiet')
    // 3,000 jobs of 200 ms at the highest priority: 75 s of work for the pool's 8 slots.
    for (let i = 0; i < 3; i++)
      await submit(s, wide('noisy', 1000, { kind: 'sleep', input: { ms: 200 } }, 1000))
    const quiet: string[] = []
    for (let i = 0; i < 5; i++)
      quiet.push(await submit(s, run([{ key: 'x', kind: 'noop' }], { customerId: 'quiet' })))
    for (const id of quiet) expect((await waitForRun(s, id)).status).toBe('succeeded')
    expect(await queuedOf(s, 'noisy')).toBeGreaterThan(2000)
  })
})

describe('headroom', () => {
  it("keeps a slot per worker for a newcomer, so its run starts while another's backlog fills the pool", async () => {
    s = await startTestSteward({
      file: { orchestrator: fastConfig({ workers: 1, concurrency: 4, headroomSlots: 1 }) },
    })
    await customer(s, 'noisy')
    await customer(s, 'quiet')
    await submit(s, wide('noisy', 40, { kind: 'sleep', input: { ms: 2_000 } }, 1000))
    const running = async (customerId: string) =>
      (
        await s!.deps.pool.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM jobs WHERE customer_id = $1 AND status = 'running'`,
          [customerId],
        )
      ).rows[0]!.n
    const until = async (ok: () => Promise<boolean>) => {
      while (!(await ok())) await new Promise((r) => setTimeout(r, 20))
    }
    await until(async () => (await running('noisy')) === 3)
    // The fourth slot stays free for a customer with nothing running: the noisy backlog waits.
    await new Promise((r) => setTimeout(r, 300))
    expect(await running('noisy')).toBe(3)
    const quiet = await submit(
      s,
      run([{ key: 'q', kind: 'sleep', input: { ms: 1 } }], { customerId: 'quiet' }),
    )
    const done: Json = await waitForRun(s, quiet)
    expect(done.status).toBe('succeeded')
    // It ran while the noisy customer's 2-second jobs still held their three slots.
    expect(await running('noisy')).toBe(3)
    expect(await queuedOf(s, 'noisy')).toBeGreaterThan(30)
  })
})

describe('weights', () => {
  it('shares a pool by weight while every customer has a backlog', async () => {
    s = await startTestSteward({ file: { orchestrator: fastConfig({ workers: 0 }) } })
    const weights = { light: 1, middle: 2, heavy: 3 }
    for (const [id, w] of Object.entries(weights)) await customer(s, id, { schedulingWeight: w })
    for (const id of Object.keys(weights))
      await submit(s, wide(id, 1000, { kind: 'sleep', input: { ms: 30 } }))
    // 12 slots in 2 workers: weights 1, 2, 3 give 2, 4 and 6 of them.
    await startWorkers(s, 2, 6)
    const started = async () =>
      (
        await s!.deps.pool.query<{ customer_id: string; n: number }>(
          `SELECT customer_id, count(*)::int AS n FROM jobs WHERE attempt > 0 GROUP BY customer_id`,
        )
      ).rows
    // Read the starts once 900 happened: no customer can have run out (each has 1,000 jobs).
    let rows = await started()
    while (rows.reduce((t, r) => t + r.n, 0) < 900) {
      await new Promise((r) => setTimeout(r, 50))
      rows = await started()
    }
    const total = rows.reduce((t, r) => t + r.n, 0)
    for (const [id, w] of Object.entries(weights)) {
      const share = (rows.find((r) => r.customer_id === id)?.n ?? 0) / total
      const expected = w / 6
      expect(Math.abs(share - expected) / expected, `${id}: ${share} of the starts`).toBeLessThan(0.1)
    }
  })
})

describe('priority inside a customer', () => {
  it("starts a customer's higher-priority run first, whatever another customer has queued", async () => {
    s = await startTestSteward({ file: { orchestrator: fastConfig({ workers: 0 }) } })
    await customer(s, 'acme')
    await customer(s, 'globex')
    const low = await submit(s, run([{ key: 'x', kind: 'noop' }], { customerId: 'acme', priority: 0 }))
    await submit(s, wide('globex', 5, { kind: 'noop' }, 1000))
    const high = await submit(s, run([{ key: 'x', kind: 'noop' }], { customerId: 'acme', priority: 10 }))
    await startWorkers(s, 1, 1)
    const [lowRun, highRun] = (await Promise.all([low, high].map((id) => waitForRun(s!, id)))) as Json[]
    expect(Date.parse(highRun.startedAt)).toBeLessThan(Date.parse(lowRun.startedAt))
  })
})
