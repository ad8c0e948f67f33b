import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startTestSteward, type TestSteward } from '../helpers/app.ts'

let s: TestSteward
let acmeToken: string
beforeAll(async () => {
  // Deployment defaults every customer starts from.
  s = await startTestSteward({ file: { tenants: { defaults: { priority: { min: 0, max: 0 } } } } })
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

const settingsOf = async (id: string) =>
  ((await (await s.api('GET', `/v1/customers/${id}`)).json()) as { settings: Record<string, unknown> })
    .settings

describe('customer settings', () => {
  it('starts every customer on the configured defaults', async () => {
    expect(await settingsOf('globex')).toEqual({
      schedulingWeight: 1,
      concurrency: { perPool: {}, perRun: null },
      priority: { min: 0, max: 0 },
      allowedKinds: null,
      fixedCostPercent: null,
      budget: null,
    })
  })

  it('merges a patch into the overrides and returns the effective settings', async () => {
    const res = await s.api('PATCH', '/v1/customers/acme', {
      settings: { schedulingWeight: 3, concurrency: { perPool: { default: 8 } }, priority: { max: 50 } },
    })
    expect(res.status).toBe(200)
    const body = (await res.json()) as { settings: Record<string, unknown> }
    expect(body.settings).toMatchObject({
      schedulingWeight: 3,
      concurrency: { perPool: { default: 8 }, perRun: null },
      priority: { min: 0, max: 50 },
    })
    // A second patch keeps what the first set.
    await s.api('PATCH', '/v1/customers/acme', { settings: { budget: { total: 500, action: 'pause' } } })
    expect(await settingsOf('acme')).toMatchObject({
      schedulingWeight: 3,
      budget: { total: 500, action: 'pause' },
    })
  })

  it('returns a setting to the default when its override is removed with null', async () => {
    await s.api('PATCH', '/v1/customers/acme', { settings: { schedulingWeight: null, budget: null } })
    expect(await settingsOf('acme')).toMatchObject({ schedulingWeight: 1, budget: null })
  })

  it('lets a customer token read its own settings', async () => {
    const res = await s.api('GET', '/v1/customers/acme', undefined, acmeToken)
    expect(((await res.json()) as { settings: { priority: unknown } }).settings.priority).toEqual({
      min: 0,
      max: 50,
    })
  })

  it('refuses settings that do not parse with 422, naming each field, and changes nothing', async () => {
    const before = await settingsOf('acme')
    const res = await s.api('PATCH', '/v1/customers/acme', {
      settings: { schedulingWeight: -1, priority: { min: 60 }, concurrency: { perPool: { 'bad pool': 1 } } },
    })
    expect(res.status).toBe(422)
    const problem = (await res.json()) as { errors: { path: string }[] }
    expect(problem.errors.map((e) => e.path).sort()).toEqual([
      'settings.concurrency.perPool.bad pool',
      'settings.priority.min',
      'settings.schedulingWeight',
    ])
    expect(await settingsOf('acme')).toEqual(before)
  })

  it('refuses unknown fields of the patch and an unknown customer', async () => {
    expect((await s.api('PATCH', '/v1/customers/acme', { weight: 2 })).status).toBe(400)
    expect((await s.api('PATCH', '/v1/customers/acme', { settings: { wieght: 2 } })).status).toBe(422)
    expect((await s.api('PATCH', '/v1/customers/nobody', { settings: {} })).status).toBe(404)
  })
})

describe('what is refused', () => {
  it('refuses a duplicate customer id with 409 and changes nothing', async () => {
    const res = await s.api('POST', '/v1/customers', { id: 'acme', name: 'Other' })
    expect(res.status).toBe(409)
    expect(((await (await s.api('GET', '/v1/customers/acme')).json()) as { name: string }).name).toBe('acme')
  })

  it('refuses a contract start outside 1970..2105, naming since, and stores nothing', async () => {
    for (const since of ['0001-01-01T00:00:00Z', '1969-12-31T23:59:59Z', '2106-01-01T00:00:00Z']) {
      const res = await s.api('POST', '/v1/customers', { id: 'ancient', name: 'A', since })
      expect(res.status).toBe(400)
      expect(((await res.json()) as { errors: { path: string }[] }).errors.map((e) => e.path)).toEqual([
        'since',
      ])
    }
    expect((await s.api('GET', '/v1/customers/ancient')).status).toBe(404)
  })

  it('refuses a webhook without a signing secret, naming webhookSecret, and stores nothing', async () => {
    const url = 'https://hooks.example.com/steward'
    const created = await s.api('POST', '/v1/customers', { id: 'unsigned', name: 'U', webhookUrl: url })
    expect(created.status).toBe(400)
    const problem = (await created.json()) as { errors: { path: string }[] }
    expect(problem.errors.map((e) => e.path)).toEqual(['webhookSecret'])
    expect((await s.api('GET', '/v1/customers/unsigned')).status).toBe(404)

    const patched = await s.api('PATCH', '/v1/customers/globex', { webhookUrl: url })
    expect(patched.status).toBe(400)
    expect(((await patched.json()) as { errors: { path: string }[] }).errors[0]?.path).toBe('webhookSecret')
    const globex = (await (await s.api('GET', '/v1/customers/globex')).json()) as {
      webhookUrl: string | null
    }
    expect(globex.webhookUrl).toBeNull()
  })

  it('keeps a stored secret when only the webhook URL changes', async () => {
    const secret = 'k'.repeat(24)
    const first = { webhookUrl: 'https://hooks.example.com/a', webhookSecret: secret }
    expect((await s.api('PATCH', '/v1/customers/globex', first)).status).toBe(200)
    const moved = await s.api('PATCH', '/v1/customers/globex', { webhookUrl: 'https://hooks.example.com/b' })
    expect(moved.status).toBe(200)
    expect(((await moved.json()) as { webhookUrl: string }).webhookUrl).toBe('https://hooks.example.com/b')
    expect((await s.api('PATCH', '/v1/customers/globex', { webhookUrl: null })).status).toBe(200)
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
    const patch = { settings: { priority: { max: 1000 } } }
    expect((await s.api('PATCH', '/v1/customers/acme', patch, acmeToken)).status).toBe(403)
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
