// /v1/runs, what is refused: bad run bodies and what a customer's settings do not allow change
// nothing, and every problem names its field; an unknown run is a 404.
import { describe, expect, it } from 'vitest'
import { type Json, run, submit } from '../helpers.ts'
import { paths, quietSteward, refused } from './support.ts'

const tenants = quietSteward()

describe('what is refused', () => {
  it('lists every problem of a bad run and stores nothing', async () => {
    const p = await refused(
      tenants().s,
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
      tenants().s,
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
    expect(
      paths(await refused(tenants().s, run([{ key: 'a', kind: 'noop', fallback: { kind: 'sleep' } }]), 400)),
    ).toEqual(['steps.0.fallback.input.ms'])
    expect(
      paths(await refused(tenants().s, { ...run([{ key: 'a', kind: 'noop' }]), colour: 'red' }, 400)),
    ).toEqual(['(body)'])
    await refused(tenants().s, '{not json', 400)
    expect(paths(await refused(tenants().s, run([]), 400))).toEqual(['steps'])
    expect(paths(await refused(tenants().s, { steps: [{ key: 'a', kind: 'noop' }] }, 400))).toEqual([
      'customerId',
      'projectId',
      'type',
    ])
  })

  it('refuses a customer that is not registered with 422', async () => {
    const p = await refused(tenants().s, run([{ key: 'a', kind: 'noop' }], { customerId: 'nobody' }), 422)
    expect(paths(p)).toEqual(['customerId'])
  })

  it('refuses a cancel reason that is too long or not text, naming the field, and cancels nothing', async () => {
    const { s } = tenants()
    const id = await submit(s, run([{ key: 'a', kind: 'noop' }]))
    for (const body of [{ reason: 'x'.repeat(501) }, { reason: 42 }]) {
      const res = await s.api('POST', `/v1/runs/${id}/cancel`, body)
      expect(res.status).toBe(400)
      expect(paths(await res.json())).toEqual(['reason'])
    }
    // Who cancelled is the token's, never the body's.
    const forged = await s.api('POST', `/v1/runs/${id}/cancel`, { by: 'customer' })
    expect(forged.status).toBe(400)
    expect(((await forged.json()) as Json).errors.map((e: Json) => e.message).join()).toMatch(/"by"/)
    const { rows } = await s.deps.pool.query('SELECT status, cancelled_by FROM runs WHERE id = $1', [id])
    expect(rows[0]).toEqual({ status: 'queued', cancelled_by: null })
  })

  it('answers 404 for unknown runs', async () => {
    expect((await tenants().s.api('GET', '/v1/runs/nope')).status).toBe(404)
    expect((await tenants().s.api('POST', '/v1/runs/nope/cancel')).status).toBe(404)
  })
})

describe("what a customer's settings refuse", () => {
  it('refuses a priority outside the range its settings grant, naming the field', async () => {
    const { s, acme } = tenants()
    const patched = await s.api('PATCH', '/v1/customers/acme', {
      settings: { priority: { min: 0, max: 10 } },
    })
    expect(patched.status).toBe(200)
    const p = await refused(s, run([{ key: 'a', kind: 'noop' }], { priority: 11 }), 422, acme)
    expect(paths(p)).toEqual(['priority'])
    await submit(s, run([{ key: 'a', kind: 'noop' }], { priority: 10 }), acme)
    // The admin is not bound by a customer's range.
    await submit(s, run([{ key: 'a', kind: 'noop' }], { priority: 500 }))
  })

  it('refuses job kinds, fallbacks included, that its settings do not allow', async () => {
    const { s, acme } = tenants()
    await s.api('PATCH', '/v1/customers/acme', { settings: { allowedKinds: ['noop', 'sleep'] } })
    const p = await refused(
      s,
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
    await submit(s, run([{ key: 'a', kind: 'simulate', input: {} }]), acme)
  })

  it('lets a customer token use priority 0 only by default (the admin any)', async () => {
    const { s, acme } = tenants()
    await s.api('PATCH', '/v1/customers/acme', { settings: { priority: null } })
    for (const priority of [1, -1, 1000]) {
      const p = await refused(s, run([{ key: 'a', kind: 'noop' }], { priority }), 422, acme)
      expect(paths(p)).toEqual(['priority'])
    }
    await submit(s, run([{ key: 'a', kind: 'noop' }], { priority: 0 }), acme)
    await submit(s, run([{ key: 'a', kind: 'noop' }]), acme)
    await submit(s, run([{ key: 'a', kind: 'noop' }], { priority: -1000 }))
  })
})
