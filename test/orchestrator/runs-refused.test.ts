// What is refused, and who is refused: bad run bodies change nothing; tenants see only their runs.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ingestConfigSchema } from '../../src/ingest/config.ts'
import { startTestSteward, type TestSteward } from '../helpers/app.ts'
import { fastConfig, type Json, run, submit } from './helpers.ts'

let s: TestSteward
let acme: string
let globex: string
beforeAll(async () => {
  s = await startTestSteward({
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
  acme = await token('acme')
  globex = await token('globex')
})
afterAll(async () => {
  await s?.stop()
})

const counts = async () => {
  const { rows } = await s.deps.pool.query(
    `SELECT (SELECT count(*) FROM runs)::int AS runs, (SELECT count(*) FROM jobs)::int AS jobs,
            (SELECT count(*) FROM telemetry_outbox)::int AS events`,
  )
  return rows[0]
}

async function refused(body: unknown, status: number, token?: string): Promise<Json> {
  const before = await counts()
  const res = await s.api('POST', '/v1/runs', body, token)
  expect(res.status).toBe(status)
  expect(res.headers.get('content-type')).toContain('application/problem+json')
  expect(await counts()).toEqual(before)
  return res.json()
}
const paths = (p: Json) => p.errors.map((e: Json) => e.path).sort()

describe('what is refused', () => {
  it('lists every problem of a bad run and stores nothing', async () => {
    const p = await refused(
      run([
        { key: 'a', kind: 'warp-drive' },
        { key: 'b', kind: 'sleep', input: { ms: -1 } },
        { key: 'b', kind: 'noop', dependsOn: ['zzz'] },
        { key: 'c', kind: 'noop', retry: { maxAttempts: 0 }, timeoutMs: 0 },
      ]),
      400,
    )
    expect(paths(p)).toEqual(
      [
        'steps.0.kind',
        'steps.1.input.ms',
        'steps.2.dependsOn.0',
        'steps.2.key',
        'steps.3.retry.maxAttempts',
        'steps.3.timeoutMs',
      ].sort(),
    )
  })

  it('refuses dependency cycles', async () => {
    const p = await refused(
      run([
        { key: 'a', kind: 'noop', dependsOn: ['c'] },
        { key: 'b', kind: 'noop', dependsOn: ['a'] },
        { key: 'c', kind: 'noop', dependsOn: ['b'] },
      ]),
      400,
    )
    expect(p.errors[0].message).toMatch(/dependency cycle: a -> c -> b -> a/)
  })

  it('refuses a bad fallback, unknown fields, a missing body and an empty run', async () => {
    expect(paths(await refused(run([{ key: 'a', kind: 'noop', fallback: { kind: 'sleep' } }]), 400))).toEqual(
      ['steps.0.fallback.input.ms'],
    )
    expect(paths(await refused({ ...run([{ key: 'a', kind: 'noop' }]), colour: 'red' }, 400))).toEqual([
      '(body)',
    ])
    await refused('{not json', 400)
    expect(paths(await refused(run([]), 400))).toEqual(['steps'])
    expect(paths(await refused({ steps: [{ key: 'a', kind: 'noop' }] }, 400))).toEqual([
      'customerId',
      'projectId',
      'type',
    ])
  })

  it('refuses a customer that is not registered with 422', async () => {
    const p = await refused(run([{ key: 'a', kind: 'noop' }], { customerId: 'nobody' }), 422)
    expect(paths(p)).toEqual(['customerId'])
  })

  it('refuses a cancel reason that is too long or not text, naming the field, and cancels nothing', async () => {
    const id = await submit(s, run([{ key: 'a', kind: 'noop' }]))
    for (const body of [{ reason: 'x'.repeat(501) }, { reason: 42 }]) {
      const res = await s.api('POST', `/v1/runs/${id}/cancel`, body)
      expect(res.status).toBe(400)
      expect(((await res.json()) as Json).errors.map((e: Json) => e.path)).toEqual(['reason'])
    }
    // Who cancelled is the token's, never the body's.
    const forged = (await (await s.api('POST', `/v1/runs/${id}/cancel`, { by: 'customer' })).json()) as Json
    expect(forged.errors.map((e: Json) => e.message).join()).toMatch(/"by"/)
    const { rows } = await s.deps.pool.query('SELECT status, cancelled_by FROM runs WHERE id = $1', [id])
    expect(rows[0].cancelled_by).toBeNull()
    expect(rows[0].status).not.toBe('cancelled')
  })

  it('answers 404 for unknown runs, jobs and DLQ entries', async () => {
    expect((await s.api('GET', '/v1/runs/nope')).status).toBe(404)
    expect((await s.api('POST', '/v1/runs/nope/cancel')).status).toBe(404)
    expect((await s.api('POST', '/v1/jobs/nope/retry')).status).toBe(404)
    expect((await s.api('POST', '/v1/dlq/nope/retry')).status).toBe(404)
  })
})

describe("what a customer's settings refuse", () => {
  it('refuses a priority outside the range its settings grant, naming the field', async () => {
    const patched = await s.api('PATCH', '/v1/customers/acme', {
      settings: { priority: { min: 0, max: 10 } },
    })
    expect(patched.status).toBe(200)
    const p = await refused(run([{ key: 'a', kind: 'noop' }], { priority: 11 }), 422, acme)
    expect(paths(p)).toEqual(['priority'])
    await submit(s, run([{ key: 'a', kind: 'noop' }], { priority: 10 }), acme)
    // The admin is not bound by a customer's range.
    await submit(s, run([{ key: 'a', kind: 'noop' }], { priority: 500 }))
  })

  it('refuses job kinds, fallbacks included, that its settings do not allow', async () => {
    await s.api('PATCH', '/v1/customers/acme', { settings: { allowedKinds: ['noop', 'sleep'] } })
    const p = await refused(
      run([
        { key: 'a', kind: 'http', input: { url: 'https://example.com/' } },
        { key: 'b', kind: 'noop', fallback: { kind: 'simulate', input: {} } },
      ]),
      422,
      acme,
    )
    expect(paths(p)).toEqual(['steps.0.kind', 'steps.1.fallback.kind'])
    await submit(s, run([{ key: 'a', kind: 'sleep', input: { ms: 1 } }]), acme)
    await s.api('PATCH', '/v1/customers/acme', { settings: { allowedKinds: null, priority: null } })
    await submit(s, run([{ key: 'a', kind: 'simulate', input: {} }], { priority: 11 }), acme)
  })
})

describe('who is refused', () => {
  it('refuses requests without a token', async () => {
    expect((await s.api('POST', '/v1/runs', run([{ key: 'a', kind: 'noop' }]), null)).status).toBe(401)
    expect((await s.api('GET', '/v1/runs', undefined, null)).status).toBe(401)
  })

  it('lets a customer token submit runs only for its own customer', async () => {
    await refused(run([{ key: 'a', kind: 'noop' }], { customerId: 'globex' }), 403, acme)
    await submit(s, run([{ key: 'a', kind: 'noop' }]), acme)
  })

  it('hides another customer’s runs: reads and actions are 404', async () => {
    const id = await submit(s, run([{ key: 'a', kind: 'noop' }], { customerId: 'globex' }), globex)
    expect((await s.api('GET', `/v1/runs/${id}`, undefined, globex)).status).toBe(200)
    expect((await s.api('GET', `/v1/runs/${id}`, undefined, acme)).status).toBe(404)
    expect((await s.api('POST', `/v1/runs/${id}/cancel`, undefined, acme)).status).toBe(404)
    expect((await s.api('POST', `/v1/runs/${id}/resume`, undefined, acme)).status).toBe(404)
    const { rows } = await s.deps.pool.query(`SELECT id FROM jobs WHERE run_id = $1`, [id])
    expect((await s.api('POST', `/v1/jobs/${rows[0].id}/retry`, undefined, acme)).status).toBe(404)
    const mine = (await (await s.api('GET', '/v1/runs', undefined, acme)).json()) as Json
    expect(mine.items.length).toBeGreaterThan(0)
    expect(mine.items.every((r: Json) => r.customerId === 'acme')).toBe(true)
    expect((await s.api('GET', '/v1/runs?customerId=globex', undefined, acme)).status).toBe(403)
    expect((await s.api('GET', `/v1/runs/${id}`)).status).toBe(200)
  })

  it('shows a customer token only its own dead-letter queue', async () => {
    const id = await submit(s, run([{ key: 'a', kind: 'noop' }], { customerId: 'globex' }), globex)
    await s.deps.pool.query(`UPDATE jobs SET status = 'dead', dead_lettered_at = now() WHERE run_id = $1`, [
      id,
    ])
    const { rows } = await s.deps.pool.query(`SELECT id FROM jobs WHERE run_id = $1`, [id])
    const mine = (await (await s.api('GET', '/v1/dlq', undefined, acme)).json()) as Json
    expect(mine.items).toEqual([])
    expect((await s.api('GET', '/v1/dlq?customerId=globex', undefined, acme)).status).toBe(403)
    expect((await s.api('POST', `/v1/dlq/${rows[0].id}/retry`, undefined, acme)).status).toBe(404)
    const theirs = (await (await s.api('GET', '/v1/dlq', undefined, globex)).json()) as Json
    expect(theirs.items.map((j: Json) => j.jobId)).toEqual([rows[0].id])
  })

  it('keeps queues and workers to the admin', async () => {
    expect((await s.api('GET', '/v1/queues', undefined, acme)).status).toBe(403)
    expect((await s.api('GET', '/v1/workers', undefined, acme)).status).toBe(403)
    expect((await s.api('GET', '/v1/queues')).status).toBe(200)
  })
})
