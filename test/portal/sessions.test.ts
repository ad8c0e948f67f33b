// Portal sessions over HTTP (no browser): signing out ends the session on the server; idle and
// absolute timeouts and a revoked token end it too; every POST needs the session's CSRF token and
// the portal's own Origin, and a refused one changes nothing; a customer resumes its own failed
// run from the page, and a crafted form for another customer's run is a 404 that changes nothing.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { PURGE_JOB } from '../../src/portal/index.ts'
import { startTestSteward, type TestSteward } from '../helpers/app.ts'
import { runStatus } from '../helpers/portal-scene.ts'
import { csrfOf, portal, sessionCookie, signIn } from './support.ts'

let s: TestSteward
const customers = ['vandelay', 'kramerica'] as const
const token: Record<string, { id: number; token: string }> = {}

async function failedRun(customerId: string): Promise<string> {
  const res = await s.api('POST', '/v1/runs', {
    customerId,
    projectId: 'imports',
    type: 'build',
    steps: [{ key: 'ship', kind: 'simulate', input: { failTimes: 1, failWith: 'validation' } }],
  })
  const id = ((await res.json()) as { id: string }).id
  await runStatus(s, id, ['failed'])
  return id
}

const status = async (id: string) =>
  ((await (await s.api('GET', `/v1/runs/${id}`)).json()) as { status: string }).status
const sessionRows = async (customerId: string) =>
  Number(
    (
      await s.deps.pool.query('SELECT count(*)::int AS n FROM portal_sessions WHERE customer_id = $1', [
        customerId,
      ])
    ).rows[0].n,
  )

/** Signs in and reads the dashboard's CSRF token. */
async function signedIn(customerId: string) {
  const cookie = await signIn(s, token[customerId]!.token)
  const page = await portal(s, 'GET', '/portal', { cookie })
  expect(page.res.status).toBe(200)
  return { cookie, csrf: csrfOf(page.text) }
}

beforeAll(async () => {
  s = await startTestSteward({ file: { portal: { loginAttempts: 1_000 } } })
  for (const id of customers) {
    expect(
      (await s.api('POST', '/v1/customers', { id, name: `${id[0]!.toUpperCase()}${id.slice(1)} Ltd` }))
        .status,
    ).toBe(201)
    token[id] = (await (await s.api('POST', `/v1/customers/${id}/tokens`, {})).json()) as {
      id: number
      token: string
    }
  }
})
afterAll(async () => {
  await s?.stop()
})

describe('what works', () => {
  it('signs out on the server: the old cookie no longer opens the dashboard or its refresh', async () => {
    const { cookie, csrf } = await signedIn('vandelay')
    const before = await sessionRows('vandelay')
    const out = await portal(s, 'POST', '/portal/logout', { cookie, form: { csrf } })
    expect(out.res.status).toBe(303)
    expect(out.res.headers.get('location')).toBe('/portal/login?signedOut')
    const cleared = out.res.headers.getSetCookie().find((c) => c.startsWith('steward_portal='))!
    expect(cleared.toLowerCase()).toContain('max-age=0')
    expect(await sessionRows('vandelay')).toBe(before - 1)
    const page = await portal(s, 'GET', '/portal', { cookie })
    expect(page.res.status).toBe(303)
    expect(page.res.headers.get('location')).toBe('/portal/login')
    const refresh = await portal(s, 'GET', '/portal/api/dashboard', { cookie })
    expect(refresh.res.status).toBe(401)
    expect(refresh.res.headers.get('content-type')).toMatch(/^application\/problem\+json/)
    const form = await portal(s, 'GET', '/portal/login?signedOut')
    expect(form.text).toContain('You are signed out.')
  })

  it('resumes the customer’s own failed run from the page', async () => {
    const run = await failedRun('vandelay')
    const { cookie, csrf } = await signedIn('vandelay')
    const page = await portal(s, 'GET', '/portal', { cookie })
    expect(page.text).toContain(`action="/portal/runs/${run}/resume"`)
    const res = await portal(s, 'POST', `/portal/runs/${run}/resume`, { cookie, form: { csrf } })
    expect(res.res.status).toBe(303)
    expect(res.res.headers.get('location')).toBe(`/portal?resumed=${run}#runs`)
    // The failing step fails once only: resumed, it runs again and succeeds.
    expect(await runStatus(s, run, ['succeeded'])).toBe('succeeded')
    const after = await portal(s, 'GET', `/portal?resumed=${run}`, { cookie })
    expect(after.text).toContain(`Run ${run} was resumed`)
  })

  it('does not let the page’s refresh keep an idle session alive', async () => {
    const { cookie } = await signedIn('vandelay')
    const seen = async () =>
      (
        await s.deps.pool.query(
          'SELECT last_seen_at FROM portal_sessions WHERE customer_id = $1 ORDER BY created_at DESC LIMIT 1',
          ['vandelay'],
        )
      ).rows[0].last_seen_at.getTime()
    await s.deps.pool.query(
      "UPDATE portal_sessions SET last_seen_at = now() - interval '10 minutes' WHERE customer_id = 'vandelay'",
    )
    const before = await seen()
    expect((await portal(s, 'GET', '/portal/api/dashboard', { cookie })).res.status).toBe(200)
    expect(await seen()).toBe(before)
    expect((await portal(s, 'GET', '/portal', { cookie })).res.status).toBe(200)
    expect(await seen()).toBeGreaterThan(before)
  })

  it('purges ended sessions on schedule', async () => {
    const { cookie } = await signedIn('kramerica')
    await s.deps.pool.query("UPDATE portal_sessions SET expires_at = now() - interval '1 second'")
    const outcome = await s.deps.scheduler.runNow(PURGE_JOB)
    expect(outcome.status).toBe('succeeded')
    expect(await sessionRows('kramerica')).toBe(0)
    expect(await sessionRows('vandelay')).toBe(0)
    expect((await portal(s, 'GET', '/portal', { cookie })).res.status).toBe(303)
  })
})

describe('what is refused', () => {
  it('refuses a session idle longer than portal.idleTimeoutSeconds', async () => {
    const { cookie } = await signedIn('vandelay')
    await s.deps.pool.query(
      "UPDATE portal_sessions SET last_seen_at = now() - interval '31 minutes' WHERE customer_id = 'vandelay'",
    )
    expect((await portal(s, 'GET', '/portal', { cookie })).res.status).toBe(303)
    expect((await portal(s, 'GET', '/portal/api/dashboard', { cookie })).res.status).toBe(401)
  })

  it('refuses a session past its absolute expiry, however recently used', async () => {
    const { cookie } = await signedIn('vandelay')
    await s.deps.pool.query(
      "UPDATE portal_sessions SET expires_at = now() - interval '1 second', last_seen_at = now() WHERE customer_id = 'vandelay'",
    )
    expect((await portal(s, 'GET', '/portal', { cookie })).res.status).toBe(303)
  })

  it('ends every session of a revoked token, and only those', async () => {
    const other = (await (await s.api('POST', '/v1/customers/vandelay/tokens', {})).json()) as {
      id: number
      token: string
    }
    const revoked = await signIn(s, other.token)
    const alsoRevoked = await signIn(s, other.token)
    const kept = await signIn(s, token.vandelay!.token)
    expect((await s.api('DELETE', `/v1/customers/vandelay/tokens/${other.id}`)).status).toBe(204)
    expect((await portal(s, 'GET', '/portal', { cookie: revoked })).res.status).toBe(303)
    const rows = await s.deps.pool.query(
      'SELECT count(*)::int AS n FROM portal_sessions WHERE token_id = $1',
      [other.id],
    )
    expect(rows.rows[0].n).toBe(0)
    expect((await portal(s, 'GET', '/portal/api/dashboard', { cookie: alsoRevoked })).res.status).toBe(401)
    expect((await portal(s, 'GET', '/portal', { cookie: kept })).res.status).toBe(200)
  })

  it('refuses a resume without the CSRF token, with another session’s, or from a foreign Origin, and changes nothing', async () => {
    const run = await failedRun('vandelay')
    const mine = await signedIn('vandelay')
    const another = await signedIn('vandelay')
    const path = `/portal/runs/${run}/resume`
    const attempts: NonNullable<Parameters<typeof portal>[3]>[] = [
      { cookie: mine.cookie, form: {} },
      { cookie: mine.cookie, form: { csrf: 'x'.repeat(43) } },
      { cookie: mine.cookie, form: { csrf: another.csrf } },
      { cookie: mine.cookie, form: { csrf: mine.csrf }, headers: { origin: 'https://evil.example' } },
      {
        cookie: mine.cookie,
        form: { csrf: mine.csrf },
        headers: { origin: '', 'sec-fetch-site': 'same-site' },
      },
    ]
    for (const a of attempts) {
      const res = await portal(s, 'POST', path, a)
      expect(res.res.status, JSON.stringify(a)).toBe(403)
      expect(res.text).toMatch(/role="alert"/)
    }
    expect(await status(run)).toBe('failed')
    // The same form, properly sent, works: the refusals were the checks.
    expect(
      (await portal(s, 'POST', path, { cookie: mine.cookie, form: { csrf: mine.csrf } })).res.status,
    ).toBe(303)
  })

  it('refuses a sign-out without the CSRF token: the session stays open', async () => {
    const { cookie } = await signedIn('vandelay')
    const res = await portal(s, 'POST', '/portal/logout', { cookie, form: { csrf: 'forged' } })
    expect(res.res.status).toBe(403)
    expect(sessionCookie(res.res)).toBeUndefined()
    expect((await portal(s, 'GET', '/portal', { cookie })).res.status).toBe(200)
  })

  it('answers a crafted form for another customer’s run with 404 and changes nothing', async () => {
    const theirs = await failedRun('kramerica')
    const { cookie, csrf } = await signedIn('vandelay')
    const res = await portal(s, 'POST', `/portal/runs/${theirs}/resume`, { cookie, form: { csrf } })
    expect(res.res.status).toBe(404)
    expect(res.text).not.toContain('kramerica')
    expect(await status(theirs)).toBe('failed')
    // Exactly as an unknown run.
    const unknown = await portal(s, 'POST', '/portal/runs/00000000-0000-0000-0000-000000000000/resume', {
      cookie,
      form: { csrf },
    })
    expect(unknown.res.status).toBe(404)
  })

  it('refuses to resume a run that did not fail (409)', async () => {
    const run = await failedRun('vandelay')
    const { cookie, csrf } = await signedIn('vandelay')
    expect(
      (await portal(s, 'POST', `/portal/runs/${run}/resume`, { cookie, form: { csrf } })).res.status,
    ).toBe(303)
    await runStatus(s, run, ['succeeded'])
    const again = await portal(s, 'POST', `/portal/runs/${run}/resume`, { cookie, form: { csrf } })
    expect(again.res.status).toBe(409)
  })

  it('sends a POST without a session to the sign-in form, changing nothing', async () => {
    const run = await failedRun('kramerica')
    const res = await portal(s, 'POST', `/portal/runs/${run}/resume`, { form: { csrf: 'anything' } })
    expect(res.res.status).toBe(303)
    expect(res.res.headers.get('location')).toBe('/portal/login')
    expect(await status(run)).toBe('failed')
  })
})
