// /v1/runs, what is refused: bad run bodies and what a customer's settings do not allow change
// nothing, and every problem names its field; an unknown run is a 404.
import { describe, expect, it } from 'vitest'
import { run, submit } from '../helpers.ts'
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
    await submit(s, run([{ key: 'a', kind: 'simulate', input: {} }], { priority: 11 }), acme)
  })
})
