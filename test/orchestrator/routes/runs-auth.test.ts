// /v1/runs, who is refused: a request without a token; a customer token submitting for another
// customer (403), or reading and acting on another customer's run (404, as if it did not exist).
import { describe, expect, it } from 'vitest'
import { type Json, run, submit } from '../helpers.ts'
import { quietSteward, refused } from './support.ts'

const tenants = quietSteward()

describe('who is refused', () => {
  it('refuses requests without a token', async () => {
    const { s } = tenants()
    expect((await s.api('POST', '/v1/runs', run([{ key: 'a', kind: 'noop' }]), null)).status).toBe(401)
    expect((await s.api('GET', '/v1/runs', undefined, null)).status).toBe(401)
  })

  it('lets a customer token submit runs only for its own customer', async () => {
    const { s, acme } = tenants()
    await refused(s, run([{ key: 'a', kind: 'noop' }], { customerId: 'globex' }), 403, acme)
    await submit(s, run([{ key: 'a', kind: 'noop' }]), acme)
  })

  it('hides another customer’s runs: reads and actions are 404', async () => {
    const { s, acme, globex } = tenants()
    const id = await submit(s, run([{ key: 'a', kind: 'noop' }], { customerId: 'globex' }), globex)
    expect((await s.api('GET', `/v1/runs/${id}`, undefined, globex)).status).toBe(200)
    expect((await s.api('GET', `/v1/runs/${id}`, undefined, acme)).status).toBe(404)
    expect((await s.api('POST', `/v1/runs/${id}/cancel`, undefined, acme)).status).toBe(404)
    expect((await s.api('POST', `/v1/runs/${id}/resume`, undefined, acme)).status).toBe(404)
    const mine = (await (await s.api('GET', '/v1/runs', undefined, acme)).json()) as Json
    expect(mine.items.length).toBeGreaterThan(0)
    expect(mine.items.every((r: Json) => r.customerId === 'acme')).toBe(true)
    expect((await s.api('GET', '/v1/runs?customerId=globex', undefined, acme)).status).toBe(403)
    expect((await s.api('GET', `/v1/runs/${id}`)).status).toBe(200)
  })
})
