// Failed authentications are rate-limited per client address (src/http/auth-failures.ts): past
// the burst, a token Steward would have to look up gets 429 with Retry-After instead of a
// database look-up, while the admin token and tokens already known valid still pass. The address
// is the socket's peer; X-Forwarded-For counts only from a trusted proxy. Over real HTTP on
// loopback, so requests have a socket.
import { randomUUID } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { FileConfigInput } from '../../src/server/index.ts'
import { ADMIN_TOKEN, startTestSteward, type TestSteward } from '../helpers/app.ts'

const stewards: TestSteward[] = []
afterAll(async () => {
  await Promise.all(stewards.map((s) => s.stop()))
})

async function listening(failures: NonNullable<NonNullable<FileConfigInput['tenants']>['auth']>['failures']) {
  const s = await startTestSteward({ listen: true, file: { tenants: { auth: { failures } } } })
  stewards.push(s)
  return s
}

const get = (s: TestSteward, token: string, headers: Record<string, string> = {}) =>
  fetch(`${s.url}/v1/customers`, { headers: { authorization: `Bearer ${token}`, ...headers } })
const bogus = () => `stw_${randomUUID()}`

describe('failed authentications from one address', () => {
  let s: TestSteward
  let valid: string
  let unused: string
  beforeAll(async () => {
    s = await listening({ burst: 3, perMinute: 1 })
    expect((await s.api('POST', '/v1/customers', { id: 'acme', name: 'Acme' })).status).toBe(201)
    const issue = async () =>
      ((await (await s.api('POST', '/v1/customers/acme/tokens', {})).json()) as { token: string }).token
    valid = await issue()
    unused = await issue()
    expect((await get(s, valid)).status).toBe(200) // now known valid (cached)
  })

  it('get 401 up to the burst, then 429 with Retry-After for tokens that would need a look-up', async () => {
    for (let i = 0; i < 3; i++) expect((await get(s, bogus())).status).toBe(401)
    const limited = await get(s, bogus())
    expect(limited.status).toBe(429)
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThanOrEqual(1)
    expect(limited.headers.get('content-type')).toContain('application/problem+json')
    // A valid token not yet looked up waits too: answering it would take the look-up refused here.
    expect((await get(s, unused)).status).toBe(429)
  })

  it('still let the admin token and a token known valid through', async () => {
    expect((await get(s, ADMIN_TOKEN)).status).toBe(200)
    expect((await get(s, valid)).status).toBe(200)
  })

  it('do not count against callers without a socket (in-process)', async () => {
    expect((await s.api('GET', '/v1/customers', undefined, bogus())).status).toBe(401)
  })

  it('are counted against the socket’s address whatever X-Forwarded-For says, without a trusted proxy', async () => {
    expect((await get(s, bogus(), { 'x-forwarded-for': '203.0.113.9' })).status).toBe(429)
  })
})

describe('behind a trusted proxy', () => {
  let s: TestSteward
  beforeAll(async () => {
    s = await listening({ burst: 2, perMinute: 1, trustedProxies: ['127.0.0.0/8'] })
  })

  it('counts failures against the forwarded client, one client at a time', async () => {
    const from = (client: string) => ({ 'x-forwarded-for': client })
    for (let i = 0; i < 2; i++) expect((await get(s, bogus(), from('203.0.113.7'))).status).toBe(401)
    expect((await get(s, bogus(), from('203.0.113.7'))).status).toBe(429)
    // A client-supplied entry left of the proxy's cannot change who is counted.
    expect((await get(s, bogus(), from('198.51.100.1, 203.0.113.7'))).status).toBe(429)
    expect((await get(s, bogus(), from('203.0.113.8'))).status).toBe(401)
    expect((await get(s, bogus())).status).toBe(401) // the proxy's own requests
  })
})
