// Shared by the refusal tests of the orchestrator's routes: a Steward with no workers and no outbox
// traffic of its own, so a refused request can be shown to change nothing, with two customers
// (acme, globex) and a token of each.
import { afterAll, beforeAll, expect } from 'vitest'
import { ingestConfigSchema } from '../../../src/ingest/config.ts'
import { startTestSteward, type TestSteward } from '../../helpers/app.ts'
import { fastConfig, type Json } from '../helpers.ts'

export interface Tenants {
  s: TestSteward
  acme: string
  globex: string
}

/** Starts the quiet Steward before the tests of the calling file and stops it after them. */
export function quietSteward(): () => Tenants {
  let t: Tenants | undefined
  beforeAll(async () => {
    t = await startQuietSteward()
  })
  afterAll(async () => {
    await t?.s.stop()
  })
  return () => t!
}

async function startQuietSteward(): Promise<Tenants> {
  const s = await startTestSteward({
    file: {
      orchestrator: fastConfig({ workers: 0 }),
      // Only the requests under test touch the outbox: no heartbeat rows come, no shipped rows go.
      ingest: ingestConfigSchema.parse({ heartbeatIntervalMs: 0, relay: { enabled: false } }),
    },
  })
  for (const id of ['acme', 'globex'])
    expect((await s.api('POST', '/v1/customers', { id, name: id })).status).toBe(201)
  const token = async (id: string) =>
    ((await (await s.api('POST', `/v1/customers/${id}/tokens`, {})).json()) as { token: string }).token
  return { s, acme: await token('acme'), globex: await token('globex') }
}

const counts = async (s: TestSteward) => {
  const { rows } = await s.deps.pool.query(
    `SELECT (SELECT count(*) FROM runs)::int AS runs, (SELECT count(*) FROM jobs)::int AS jobs,
            (SELECT count(*) FROM telemetry_outbox)::int AS events`,
  )
  return rows[0]
}

/** Submits `body`, expects `status` as problem+json, and that nothing was stored. */
export async function refused(s: TestSteward, body: unknown, status: number, token?: string): Promise<Json> {
  const before = await counts(s)
  const res = await s.api('POST', '/v1/runs', body, token)
  expect(res.status).toBe(status)
  expect(res.headers.get('content-type')).toContain('application/problem+json')
  expect(await counts(s)).toEqual(before)
  return res.json()
}

export const paths = (p: Json) => p.errors.map((e: Json) => e.path).sort()
