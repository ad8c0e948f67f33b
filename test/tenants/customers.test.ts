import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startTestSteward, type TestSteward } from '../helpers/app.ts'

let s: TestSteward
let acmeToken: string
beforeAll(async () => {
  s = await startTestSteward()
  for (const id of ['acme', 'globex'])
    expect((await s.api('POST', '/v1/customers', { id, name: id })).status).toBe(201)
  acmeToken = (
    (await (await s.api('POST', '/v1/customers/acme/tokens', { name: 'ci' })).json()) as { token: string }
  ).token
})
afterAll(async () => {
  await s?.stop()
})

describe('what works', () => {
  it('lets the admin register a customer and list all customers', async () => {
    const res = await s.api('GET', '/v1/customers')
    const body = (await res.json()) as { items: { id: string }[] }
    expect(body.items.map((c) => c.id)).toEqual(expect.arrayContaining(['acme', 'globex']))
  })

  it('records the contract start of an onboarded customer', async () => {
    const res = await s.api('POST', '/v1/customers', {
      id: 'legacy',
      name: 'Legacy',
      since: '2025-01-01T00:00:00Z',
    })
    expect(res.status).toBe(201)
    expect(((await res.json()) as { createdAt: string }).createdAt).toBe('2025-01-01T00:00:00.000Z')
  })

  it('lets a customer token read its own customer', async () => {
    const res = await s.api('GET', '/v1/customers/acme', undefined, acmeToken)
    expect(res.status).toBe(200)
  })
})

describe('what is refused', () => {
  it('refuses a duplicate customer id with 409 and changes nothing', async () => {
    const res = await s.api('POST', '/v1/customers', { id: 'acme', name: 'Other' })
    expect(res.status).toBe(409)
    expect(((await (await s.api('GET', '/v1/customers/acme')).json()) as { name: string }).name).toBe('acme')
  })
})

describe('who is refused', () => {
  it('shows a customer token only its own customer', async () => {
    const body = (await (await s.api('GET', '/v1/customers', undefined, acmeToken)).json()) as {
      items: { id: string }[]
    }
    expect(body.items.map((c) => c.id)).toEqual(['acme'])
    expect((await s.api('GET', '/v1/customers/globex', undefined, acmeToken)).status).toBe(403)
  })

  it('refuses admin-only routes to a customer token', async () => {
    expect((await s.api('POST', '/v1/customers', { id: 'x', name: 'x' }, acmeToken)).status).toBe(403)
    expect((await s.api('POST', '/v1/customers/acme/tokens', {}, acmeToken)).status).toBe(403)
  })

  it('stops accepting a revoked token', async () => {
    const issued = (await (await s.api('POST', '/v1/customers/globex/tokens', {})).json()) as {
      id: number
      token: string
    }
    expect((await s.api('GET', '/v1/customers/globex', undefined, issued.token)).status).toBe(200)
    expect((await s.api('DELETE', `/v1/customers/globex/tokens/${issued.id}`)).status).toBe(204)
    expect((await s.api('GET', '/v1/customers/globex', undefined, issued.token)).status).toBe(401)
  })
})
