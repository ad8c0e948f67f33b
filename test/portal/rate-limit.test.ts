// Sign-in attempts are rate-limited per client address, and what a proxy says about the client
// (X-Forwarded-For, X-Forwarded-Proto) is believed only from a trusted proxy. Real HTTP on
// loopback: the peer address is the socket's.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startTestSteward, type TestSteward } from '../helpers/app.ts'

let trusting: TestSteward
let plain: TestSteward
const tokens = new Map<TestSteward, string>()

async function setUp(portal: Record<string, unknown>, env: Record<string, string> = {}) {
  const s = await startTestSteward({ listen: true, file: { portal }, env })
  expect((await s.api('POST', '/v1/customers', { id: 'pied-piper', name: 'Pied Piper' })).status).toBe(201)
  const issued = (await (await s.api('POST', '/v1/customers/pied-piper/tokens', {})).json()) as {
    token: string
  }
  tokens.set(s, issued.token)
  return s
}

/** A sign-in over the socket, as a browser on Steward's own origin sends it. */
async function attempt(s: TestSteward, token: string, headers: Record<string, string> = {}) {
  const res = await fetch(`${s.url}/portal/login`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', origin: s.url, ...headers },
    body: new URLSearchParams({ token }).toString(),
  })
  await res.text()
  return res
}

beforeAll(async () => {
  trusting = await setUp({ loginAttempts: 3, loginWindowSeconds: 600, trustedProxies: ['127.0.0.1', '::1'] })
  plain = await setUp({ loginAttempts: 3, loginWindowSeconds: 600 })
})
afterAll(async () => {
  await trusting?.stop()
  await plain?.stop()
})

describe('the sign-in rate limit', () => {
  it('refuses the attempts of one address beyond the limit with 429 and Retry-After, good token or not', async () => {
    const client = { 'x-forwarded-for': '203.0.113.7' }
    for (let i = 0; i < 3; i++) expect((await attempt(trusting, 'stw_wrong', client)).status).toBe(403)
    const limited = await attempt(trusting, tokens.get(trusting)!, client)
    expect(limited.status).toBe(429)
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(500)
    expect(limited.headers.getSetCookie()).toEqual([])
    // Another client behind the same proxy still signs in.
    const other = await attempt(trusting, tokens.get(trusting)!, { 'x-forwarded-for': '203.0.113.8' })
    expect(other.status).toBe(303)
  })

  it('keys the limit on the address the trusted proxy saw, not on what the client wrote before it', async () => {
    // The client wrote 198.51.100.1; the trusted proxy appended the address it saw (203.0.113.9).
    const forged = (i: number) => ({ 'x-forwarded-for': `198.51.100.${i}, 203.0.113.9` })
    for (let i = 0; i < 3; i++) expect((await attempt(trusting, 'stw_wrong', forged(i))).status).toBe(403)
    expect((await attempt(trusting, 'stw_wrong', forged(9))).status).toBe(429)
  })

  it('ignores X-Forwarded-For from a peer that is not a trusted proxy', async () => {
    for (let i = 0; i < 3; i++)
      expect((await attempt(plain, 'stw_wrong', { 'x-forwarded-for': `203.0.113.${i}` })).status).toBe(403)
    // All came from 127.0.0.1 as far as Steward can tell: the fourth is over the limit.
    expect((await attempt(plain, tokens.get(plain)!, { 'x-forwarded-for': '203.0.113.200' })).status).toBe(
      429,
    )
  })
})

describe('https behind a TLS proxy', () => {
  const secure = (res: Response) =>
    res.headers
      .getSetCookie()
      .find((c) => c.startsWith('steward_portal='))!
      .split(';')
      .map((a) => a.trim().toLowerCase())
      .includes('secure')

  it('marks the cookie Secure when a trusted proxy says the client used https', async () => {
    const res = await attempt(trusting, tokens.get(trusting)!, {
      'x-forwarded-for': '192.0.2.10',
      'x-forwarded-proto': 'https',
      origin: trusting.url.replace('http:', 'https:'),
    })
    expect(res.status).toBe(303)
    expect(secure(res)).toBe(true)
  })

  it('does not believe X-Forwarded-Proto from an untrusted peer', async () => {
    const s = await setUp({})
    try {
      const res = await attempt(s, tokens.get(s)!, { 'x-forwarded-proto': 'https' })
      expect(res.status).toBe(303)
      expect(secure(res)).toBe(false)
    } finally {
      await s.stop()
    }
  })

  it('marks it Secure when the public URL (STEWARD_URL) is https', async () => {
    const s = await setUp({}, { STEWARD_URL: 'https://steward.example.com' })
    try {
      const res = await attempt(s, tokens.get(s)!, { origin: 'https://steward.example.com' })
      expect(res.status).toBe(303)
      expect(secure(res)).toBe(true)
    } finally {
      await s.stop()
    }
  })

  it('always marks it Secure with portal.secureCookies "always"', async () => {
    const s = await setUp({ secureCookies: 'always' })
    try {
      const res = await attempt(s, tokens.get(s)!)
      expect(res.status).toBe(303)
      expect(secure(res)).toBe(true)
    } finally {
      await s.stop()
    }
  })
})
