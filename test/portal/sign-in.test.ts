// Signing in to the portal over HTTP (no browser): a customer's API token opens a server-side
// session in an HttpOnly, SameSite=Strict cookie scoped to /portal (Secure under https); a bad
// token, the admin token, a foreign Origin and too many attempts get the form again and no cookie.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ADMIN_TOKEN, startTestSteward, type TestSteward } from '../helpers/app.ts'
import { ORIGIN, portal, sessionCookie, signIn } from './support.ts'

let s: TestSteward
let token: string

const sessions = async () =>
  Number((await s.deps.pool.query('SELECT count(*)::int AS n FROM portal_sessions')).rows[0].n)

beforeAll(async () => {
  s = await startTestSteward({ file: { portal: { loginAttempts: 1_000 } } })
  expect((await s.api('POST', '/v1/customers', { id: 'hooli', name: 'Hooli' })).status).toBe(201)
  token = ((await (await s.api('POST', '/v1/customers/hooli/tokens', {})).json()) as { token: string }).token
})
afterAll(async () => {
  await s?.stop()
})

describe('what works', () => {
  it('shows the sign-in form with a labelled token field', async () => {
    const { res, text } = await portal(s, 'GET', '/portal/login')
    expect(res.status).toBe(200)
    expect(text).toMatch(/<form method="post" action="\/portal\/login">/)
    expect(text).toMatch(/<label for="token">API token<\/label>/)
    expect(text).toMatch(/<input type="password" id="token" name="token"/)
    expect(res.headers.get('set-cookie')).toBeNull()
    expect(res.headers.get('content-security-policy')).toMatch(/default-src 'none'/)
  })

  it('answers every portal page uncached, unframed and under a CSP that allows only its own nonce', async () => {
    const cookie = await signIn(s, token)
    for (const path of ['/portal/login', '/portal', '/portal/api/dashboard', '/portal/nowhere']) {
      const { res, text } = await portal(s, 'GET', path, {
        cookie: path === '/portal/login' ? undefined : cookie,
      })
      expect(res.headers.get('cache-control'), path).toBe('no-store')
      expect(res.headers.get('x-content-type-options'), path).toBe('nosniff')
      expect(res.headers.get('referrer-policy'), path).toBe('same-origin')
      expect(res.headers.get('x-frame-options'), path).toBe('DENY')
      if (path === '/portal/api/dashboard') continue
      const csp = res.headers.get('content-security-policy')!
      const nonce = /script-src 'nonce-([^']+)'/.exec(csp)![1]
      expect(csp).toMatch(/^default-src 'none';/)
      expect(csp).toContain("connect-src 'self'")
      expect(csp).toContain("frame-ancestors 'none'")
      // Every style and script element carries this response's nonce; nothing is loaded from elsewhere.
      for (const tag of text.match(/<(script|style)\b[^>]*>/g) ?? [])
        expect(tag).toContain(`nonce="${nonce}"`)
      expect(text).not.toMatch(/<(script|link|img)\b[^>]*\b(src|href)="(https?:)?\/\//)
    }
  })

  it('opens a session for a customer token: HttpOnly, SameSite=Strict, Path=/portal, expiring, not Secure over http', async () => {
    const { res } = await portal(s, 'POST', '/portal/login', { form: { token } })
    expect(res.status).toBe(303)
    expect(res.headers.get('location')).toBe('/portal')
    const set = res.headers.getSetCookie().find((c) => c.startsWith('steward_portal='))!
    const attrs = set.split(';').map((a) => a.trim().toLowerCase())
    expect(attrs).toEqual(
      expect.arrayContaining(['httponly', 'samesite=strict', 'path=/portal', 'max-age=43200']),
    )
    expect(attrs).not.toContain('secure')
    const id = set.split(';')[0]!.split('=')[1]!
    expect(id).toMatch(/^[A-Za-z0-9_-]{43}$/)
    // Only the id's hash is stored.
    const stored = await s.deps.pool.query('SELECT id_hash, customer_id FROM portal_sessions')
    expect(stored.rows.map((r) => r.customer_id)).toContain('hooli')
    for (const r of stored.rows) expect(Buffer.from(r.id_hash).toString()).not.toContain(id)
    const page = await portal(s, 'GET', '/portal', { cookie: set.split(';')[0] })
    expect(page.res.status).toBe(200)
    expect(page.text).toContain('<h1>Hooli</h1>')
  })

  it('marks the cookie Secure when the request is https', async () => {
    const { res } = await portal(s, 'POST', '/portal/login', {
      form: { token },
      base: 'https://steward.test',
    })
    expect(res.status).toBe(303)
    const set = res.headers.getSetCookie().find((c) => c.startsWith('steward_portal='))!
    expect(set.split(';').map((a) => a.trim().toLowerCase())).toContain('secure')
  })

  it('sends a signed-in customer from the form to its dashboard, and an anonymous one from the dashboard to the form', async () => {
    const cookie = await signIn(s, token)
    const login = await portal(s, 'GET', '/portal/login', { cookie })
    expect(login.res.status).toBe(303)
    expect(login.res.headers.get('location')).toBe('/portal')
    const anonymous = await portal(s, 'GET', '/portal')
    expect(anonymous.res.status).toBe(303)
    expect(anonymous.res.headers.get('location')).toBe('/portal/login')
  })

  it('reuses a customer’s figures for portal.figuresCacheSeconds (30 s by default)', async () => {
    const cookie = await signIn(s, token)
    const computedAt = async () => {
      const { res, text } = await portal(s, 'GET', '/portal/api/dashboard', { cookie })
      expect(res.status).toBe(200)
      return JSON.parse(text).view.sla.value.computedAt
    }
    expect(await computedAt()).toBe(await computedAt())
  })

  it('replaces a session it was signed in with (never reuses an id from before sign-in)', async () => {
    const first = await signIn(s, token)
    const res = await portal(s, 'POST', '/portal/login', { form: { token }, cookie: first })
    const second = sessionCookie(res.res)!
    expect(second).not.toBe(first)
    expect((await portal(s, 'GET', '/portal', { cookie: first })).res.status).toBe(303)
    expect((await portal(s, 'GET', '/portal', { cookie: second })).res.status).toBe(200)
  })
})

describe('what is refused', () => {
  it('gives a bad token the form again with an error, and no cookie', async () => {
    const before = await sessions()
    for (const bad of ['stw_not-a-real-token', `${token}x`, '   ']) {
      const { res, text } = await portal(s, 'POST', '/portal/login', { form: { token: bad } })
      expect([400, 403]).toContain(res.status)
      expect(res.headers.get('set-cookie')).toBeNull()
      expect(text).toMatch(/<p class="error" role="alert" id="signin-error">/)
      expect(text).toMatch(/name="token"[^>]*aria-invalid="true"/)
    }
    const missing = await portal(s, 'POST', '/portal/login', { form: {} })
    expect(missing.res.status).toBe(400)
    expect(missing.res.headers.get('set-cookie')).toBeNull()
    expect(await sessions()).toBe(before)
  })

  it('does not let the admin token sign in (it is not a customer)', async () => {
    const before = await sessions()
    const { res, text } = await portal(s, 'POST', '/portal/login', { form: { token: ADMIN_TOKEN } })
    expect(res.status).toBe(403)
    expect(res.headers.get('set-cookie')).toBeNull()
    expect(text).toContain('the admin token cannot sign in here')
    expect(await sessions()).toBe(before)
  })

  it('refuses a sign-in posted from another site (Origin, or fetch metadata without one)', async () => {
    const before = await sessions()
    for (const headers of <Record<string, string>[]>[
      { origin: 'https://evil.example' },
      { origin: 'null' },
      { origin: '', 'sec-fetch-site': 'cross-site' },
    ]) {
      const { res } = await portal(s, 'POST', '/portal/login', { form: { token }, headers })
      expect(res.status).toBe(403)
      expect(res.headers.get('set-cookie')).toBeNull()
    }
    expect(await sessions()).toBe(before)
    // Our own origin, and a non-browser client that sends neither header, are accepted.
    expect(
      (await portal(s, 'POST', '/portal/login', { form: { token }, headers: { origin: ORIGIN } })).res.status,
    ).toBe(303)
    expect(
      (await portal(s, 'POST', '/portal/login', { form: { token }, headers: { origin: '' } })).res.status,
    ).toBe(303)
  })

  it('refuses a revoked token', async () => {
    const issued = (await (await s.api('POST', '/v1/customers/hooli/tokens', {})).json()) as {
      id: number
      token: string
    }
    expect((await s.api('DELETE', `/v1/customers/hooli/tokens/${issued.id}`)).status).toBe(204)
    const { res } = await portal(s, 'POST', '/portal/login', { form: { token: issued.token } })
    expect(res.status).toBe(403)
    expect(res.headers.get('set-cookie')).toBeNull()
  })
})
