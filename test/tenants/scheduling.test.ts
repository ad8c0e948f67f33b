// The claim schedules each customer with its effective settings: the config's defaults unless
// overridden, also after the defaults change between two starts on the same database.
import { afterEach, describe, expect, it } from 'vitest'
import { startTestSteward, type TestSteward } from '../helpers/app.ts'
import { createTestDatabaseUrl } from '../helpers/db.ts'
import { fastConfig, type Json, run, submit } from '../orchestrator/helpers.ts'

let s: TestSteward | undefined
afterEach(async () => {
  await s?.stop()
  s = undefined
})

const start = (databaseUrl: string, perPool: Record<string, number>) =>
  startTestSteward({
    databaseUrl,
    file: {
      orchestrator: fastConfig({ workers: 1, concurrency: 4, shutdownGraceMs: 0 }),
      tenants: { defaults: { concurrency: { perPool } } },
    },
  })

async function running(t: TestSteward, n: number): Promise<void> {
  for (;;) {
    const { rows } = await t.deps.pool.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM jobs WHERE status = 'running'`,
    )
    if (rows[0]!.n >= n) return
    await new Promise((r) => setTimeout(r, 25))
  }
}

describe("the claim's copy of the scheduling settings", () => {
  it('caps a customer by the defaults, and lifts the cap when a restart brings new defaults', async () => {
    const url = await createTestDatabaseUrl()
    s = await start(url, { default: 1 })
    expect((await s.api('POST', '/v1/customers', { id: 'acme', name: 'Acme' })).status).toBe(201)
    const long = run([{ key: 'x', kind: 'sleep', input: { ms: 60_000 } }])
    const ids = [await submit(s, long), await submit(s, long)]
    await running(s, 1)
    const steps = await Promise.all(
      ids.map(async (id) => ((await (await s!.api('GET', `/v1/runs/${id}`)).json()) as Json).steps[0]),
    )
    expect(steps.find((j) => j.status === 'queued').waiting).toMatchObject({
      reason: 'concurrency_cap',
      cap: 'perPool',
      limit: 1,
    })
    await s.stop()
    // The same database, no default cap: both jobs run at once.
    s = await start(url, {})
    await running(s, 2)
  })
})
