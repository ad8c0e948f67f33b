// Customer contacts: the admin replaces a customer's list of e-mail contacts (each with the notices
// it receives); the admin and the customer's own token read it. Addresses and display names are
// hostile input: anything that could add a header or a recipient to a message is refused with a
// 400 naming the field, and nothing changes.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startTestSteward, type TestSteward } from '../helpers/app.ts'

let s: TestSteward
const tokens: Record<string, string> = {}
beforeAll(async () => {
  s = await startTestSteward()
  for (const id of ['acme', 'globex']) {
    expect((await s.api('POST', '/v1/customers', { id, name: id })).status).toBe(201)
    tokens[id] = (
      (await (await s.api('POST', `/v1/customers/${id}/tokens`, {})).json()) as { token: string }
    ).token
  }
})
afterAll(async () => {
  await s?.stop()
})

const acmeContacts = [
  { email: 'ops@acme.example', name: 'Acme Ops' },
  { email: 'cfo@acme.example', notices: ['sla.credit_issued', 'sla.monthly_report'] },
]

const contactsOf = async (id: string, token?: string) => {
  const res = await s.api('GET', `/v1/customers/${id}/contacts`, undefined, token)
  expect(res.status).toBe(200)
  return (await res.json()) as {
    customerId: string
    contacts: { email: string; name: string; notices: string[] }[]
  }
}

describe('what works', () => {
  it('stores the list the admin puts, in order, every notice kind by default', async () => {
    const res = await s.api('PUT', '/v1/customers/acme/contacts', { contacts: acmeContacts })
    expect(res.status).toBe(200)
    const expected = {
      customerId: 'acme',
      contacts: [
        {
          email: 'ops@acme.example',
          name: 'Acme Ops',
          notices: [
            'incident.investigating',
            'incident.update',
            'incident.resolved',
            'sla.credit_issued',
            'sla.monthly_report',
            'budget.threshold',
          ],
        },
        { email: 'cfo@acme.example', name: '', notices: ['sla.credit_issued', 'sla.monthly_report'] },
      ],
    }
    expect(await res.json()).toEqual(expected)
    expect(await contactsOf('acme')).toEqual(expected)
  })

  it('replaces the whole list on the next PUT, and an empty list removes every contact', async () => {
    await s.api('PUT', '/v1/customers/globex/contacts', {
      contacts: [{ email: 'a@globex.example' }, { email: 'b@globex.example' }],
    })
    const res = await s.api('PUT', '/v1/customers/globex/contacts', {
      contacts: [{ email: 'B@globex.example', notices: ['incident.resolved'] }],
    })
    expect(((await res.json()) as { contacts: unknown[] }).contacts).toEqual([
      { email: 'B@globex.example', name: '', notices: ['incident.resolved'] },
    ])
    expect((await s.api('PUT', '/v1/customers/globex/contacts', { contacts: [] })).status).toBe(200)
    expect((await contactsOf('globex')).contacts).toEqual([])
  })

  it("lets a customer token read its own customer's contacts", async () => {
    expect((await contactsOf('acme', tokens.acme)).contacts.map((c) => c.email)).toEqual([
      'ops@acme.example',
      'cfo@acme.example',
    ])
  })

  it('deletes the contacts with their customer', async () => {
    expect((await s.api('POST', '/v1/customers', { id: 'brief', name: 'Brief' })).status).toBe(201)
    await s.api('PUT', '/v1/customers/brief/contacts', { contacts: [{ email: 'x@brief.example' }] })
    await s.deps.pool.query(`DELETE FROM customers WHERE id = 'brief'`)
    const { rows } = await s.deps.pool.query(
      `SELECT count(*)::int AS n FROM customer_contacts WHERE customer_id = 'brief'`,
    )
    expect(rows[0].n).toBe(0)
  })
})

describe('what is refused', () => {
  const refused = async (contacts: unknown, field: string) => {
    const before = await contactsOf('acme')
    const res = await s.api('PUT', '/v1/customers/acme/contacts', { contacts })
    expect(res.status).toBe(400)
    const problem = (await res.json()) as { errors: { path: string; message: string }[] }
    expect(problem.errors.map((e) => e.path)).toContain(field)
    expect(await contactsOf('acme')).toEqual(before)
    return problem
  }

  it('refuses an address carrying CR/LF and a header (header injection)', async () => {
    await refused([{ email: 'ops@acme.example\r\nBcc: all@evil.example' }], 'contacts.0.email')
    await refused([{ email: 'ops@acme.example\nSubject: hi' }], 'contacts.0.email')
  })

  it('refuses a display name that tries to add a header or a recipient', async () => {
    for (const name of [
      'Ops\r\nBcc: all@evil.example',
      'Ops\nX-Injected: 1',
      'Ops <eve@evil.example>',
      'Ops, eve@evil.example',
      '"Ops" <eve@evil.example>',
      'Ops; eve@evil.example',
      'Ops\tTeam',
    ]) {
      const problem = await refused([{ email: 'ops@acme.example', name }], 'contacts.0.name')
      expect(problem.errors.find((e) => e.path === 'contacts.0.name')!.message).toMatch(/display name/)
    }
  })

  it('refuses what is not one plain address', async () => {
    for (const email of [
      'two@acme.example, three@acme.example',
      'Ops <ops@acme.example>',
      'ops@acme.example ',
      'no-at-sign',
      'ops@localhost',
      `${'a'.repeat(250)}@acme.example`,
    ])
      await refused([{ email }], 'contacts.0.email')
  })

  it('refuses an address listed twice (in any case), an unknown notice kind, and an empty kind list', async () => {
    await refused([{ email: 'ops@acme.example' }, { email: 'OPS@acme.example' }], 'contacts.1.email')
    await refused([{ email: 'ops@acme.example', notices: ['incident.deleted'] }], 'contacts.0.notices.0')
    await refused([{ email: 'ops@acme.example', notices: [] }], 'contacts.0.notices')
    await refused(
      [{ email: 'ops@acme.example', notices: ['incident.update', 'incident.update'] }],
      'contacts.0.notices',
    )
  })

  it('refuses unknown fields and more than 50 contacts', async () => {
    await refused([{ email: 'ops@acme.example', cc: 'eve@evil.example' }], 'contacts.0')
    await refused(
      Array.from({ length: 51 }, (_, i) => ({ email: `c${i}@acme.example` })),
      'contacts',
    )
  })

  it('answers 404 for an unknown customer', async () => {
    expect((await s.api('GET', '/v1/customers/nobody/contacts')).status).toBe(404)
    expect((await s.api('PUT', '/v1/customers/nobody/contacts', { contacts: [] })).status).toBe(404)
  })
})

describe('who is refused', () => {
  it('does not let a customer token change its contacts (admin only)', async () => {
    const res = await s.api('PUT', '/v1/customers/acme/contacts', { contacts: [] }, tokens.acme)
    expect(res.status).toBe(403)
    expect((await contactsOf('acme')).contacts).toHaveLength(2)
  })

  it("answers 404 to a customer token asking for another customer's contacts", async () => {
    expect((await s.api('GET', '/v1/customers/acme/contacts', undefined, tokens.globex)).status).toBe(404)
  })

  it('answers 401 without a token', async () => {
    expect((await s.api('GET', '/v1/customers/acme/contacts', undefined, null)).status).toBe(401)
  })
})
