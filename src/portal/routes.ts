// The portal's routes, outside /v1 (no bearer token: the session cookie authenticates) and not in
// /openapi.json (browser pages and forms, not an API; docs/api.md says so):
//
//   GET  /portal/login                  the sign-in form
//   POST /portal/login                  form field `token`: one of the customer's API tokens
//   POST /portal/logout                 ends the session (CSRF token)
//   GET  /portal                        the dashboard
//   GET  /portal/api/dashboard          its sections again, as JSON (the page's refresh)
//   POST /portal/runs/:id/resume        resumes the customer's own failed run (CSRF token)
//   GET  /portal/credits/:month.html    a month's credit report, HTML or CSV, of this customer only
//
// Guarantees (docs/security.md, "Portal sessions"): a POST is refused (403, nothing changes) unless
// its Origin is the portal's own and, with a session, it carries the session's CSRF token; every
// answer is `Cache-Control: no-store` with a CSP that allows nothing from elsewhere; the customer
// is always the session's, never one the request names.
import { randomBytes } from 'node:crypto'
import type { Context } from 'hono'
import { bodyLimit } from 'hono/body-limit'
import { deleteCookie, getCookie, setCookie } from 'hono/cookie'
import type { Pool } from '../db/postgres.ts'
import { DomainError } from '../errors.ts'
import { PROBLEMS, problemJson } from '../http/errors.ts'
import { createRouter } from '../http/openapi.ts'
import type { Logger } from '../log.ts'
import { isMonthKey, parseMonth, renderCsv, renderHtml } from '../sla/index.ts'
import { countAttempt } from './attempts.ts'
import type { PortalConfig } from './config.ts'
import { buildDashboard } from './dashboard.ts'
import { messagePage } from './layout.ts'
import { renderLogin } from './login-page.ts'
import { renderDashboard, renderSections } from './page.ts'
import { requestFacts } from './request.ts'
import {
  closeSession,
  closeTokenSessions,
  csrfToken,
  findSession,
  openSession,
  type Session,
  validCsrf,
} from './sessions.ts'
import type { PortalUses } from './uses.ts'

export const SESSION_COOKIE = 'steward_portal'
const COOKIE_PATH = '/portal'

const pageCsp = (nonce: string) =>
  `default-src 'none'; script-src 'nonce-${nonce}'; style-src 'nonce-${nonce}'; img-src data:; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'`
// The SLA engine's printable report: its own inline style, nothing else.
const REPORT_CSP =
  "default-src 'none'; style-src 'unsafe-inline'; img-src data:; form-action 'none'; base-uri 'none'; frame-ancestors 'none'"

export interface PortalRouteDeps {
  pool: Pool
  log: Logger
  config: PortalConfig
  uses: PortalUses
}

export function portalRoutes(d: PortalRouteDeps) {
  const { pool, config: cfg, uses, log } = d
  const facts = requestFacts(cfg, uses.publicUrl)
  const app = createRouter()

  app.use('/portal/*', async (c, next) => {
    await next()
    c.header('Cache-Control', 'no-store')
    c.header('X-Content-Type-Options', 'nosniff')
    c.header('Referrer-Policy', 'same-origin')
    c.header('X-Frame-Options', 'DENY')
  })
  // Forms are small: anything larger is not one of ours.
  app.on(
    'POST',
    '/portal/*',
    bodyLimit({ maxSize: 8 * 1024, onError: (c) => c.text('Payload Too Large', 413) }),
  )

  const nonce = () => randomBytes(16).toString('base64')
  const page = (c: Context, body: Promise<string> | string, status: number, n: string) =>
    c.html(body, status as 200, { 'Content-Security-Policy': pageCsp(n) })
  const refuse = (c: Context, status: number, title: string, message: string) => {
    const n = nonce()
    return page(
      c,
      messagePage(n, title, message, { href: '/portal', text: 'Back to your dashboard' }),
      status,
      n,
    )
  }

  /** The request's session if it is valid and its token not revoked (a revoked token ends its sessions). */
  async function session(c: Context, touch: boolean): Promise<Session | undefined> {
    const id = getCookie(c, SESSION_COOKIE)
    if (!id) return undefined
    const s = await findSession(pool, id, cfg.idleTimeoutSeconds, touch)
    if (!s) return undefined
    if (!(await uses.tenants.tokenActive(s.customerId, s.tokenId))) {
      await closeTokenSessions(pool, s.tokenId)
      log.info('portal sessions of a revoked token ended', { customerId: s.customerId, tokenId: s.tokenId })
      return undefined
    }
    return s
  }

  /** A POST's form, if it comes from our own page with the session's CSRF token; else why not. */
  async function checkedForm(c: Context, s: Session | undefined) {
    if (!facts.sameOrigin(c)) return { refused: 'The request did not come from the portal’s own pages.' }
    const form = await c.req.parseBody().catch(() => ({}) as Record<string, unknown>)
    if (s && !validCsrf(s.id, form.csrf))
      return {
        refused: 'The form is out of date or did not come from the portal. Reload the page and try again.',
      }
    return { form }
  }

  const loginPage = (c: Context, status: number, opts: { error?: string; notice?: string } = {}) => {
    const n = nonce()
    return page(c, renderLogin({ nonce: n, ...opts }), status, n)
  }

  app.get('/portal/login', async (c) => {
    if (await session(c, false)) return c.redirect('/portal', 303)
    const q = c.req.query()
    return loginPage(c, 200, {
      notice: q.signedOut !== undefined ? 'You are signed out.' : undefined,
    })
  })

  app.post('/portal/login', async (c) => {
    const checked = await checkedForm(c, undefined)
    if (!checked.form) return refuse(c, 403, 'Sign-in refused', checked.refused)
    const address = facts.clientAddress(c)
    const limit = await countAttempt(pool, address, {
      attempts: cfg.loginAttempts,
      windowSeconds: cfg.loginWindowSeconds,
    })
    if (!limit.allowed) {
      log.warn('portal sign-in rate limited', { address })
      c.header('Retry-After', String(limit.retryAfterSeconds))
      return loginPage(c, 429, {
        error: `Too many sign-in attempts from your address. Try again in ${Math.ceil(limit.retryAfterSeconds / 60)} min.`,
      })
    }
    const token = typeof checked.form.token === 'string' ? checked.form.token.trim() : ''
    if (!token || token.length > 512) return loginPage(c, 400, { error: 'Enter one of your API tokens.' })
    const principal = await uses.resolveToken(token)
    // The admin token is not in the customers' tokens: it resolves to nothing here.
    if (principal?.kind !== 'customer') {
      log.info('portal sign-in refused', { address })
      return loginPage(c, 403, {
        error:
          'This is not a valid customer API token: it is unknown or revoked (the admin token cannot sign in here).',
      })
    }
    // A new session every time: an id from before sign-in is never reused (session fixation).
    const previous = getCookie(c, SESSION_COOKIE)
    if (previous) await closeSession(pool, previous)
    const id = await openSession(pool, principal.customerId, principal.tokenId, cfg.absoluteTimeoutSeconds)
    setCookie(c, SESSION_COOKIE, id, {
      path: COOKIE_PATH,
      httpOnly: true,
      sameSite: 'Strict',
      secure: facts.secureCookie(c),
      maxAge: cfg.absoluteTimeoutSeconds,
    })
    log.info('portal sign-in', { customerId: principal.customerId, tokenId: principal.tokenId, address })
    return c.redirect('/portal', 303)
  })

  app.post('/portal/logout', async (c) => {
    const s = await session(c, false)
    if (s) {
      const checked = await checkedForm(c, s)
      if (!checked.form) return refuse(c, 403, 'Sign-out refused', checked.refused)
      await closeSession(pool, s.id)
    }
    deleteCookie(c, SESSION_COOKIE, { path: COOKIE_PATH, secure: facts.secureCookie(c) })
    return c.redirect('/portal/login?signedOut', 303)
  })

  const pageContext = (s: Session) => ({
    csrf: csrfToken(s.id),
    incidentDays: cfg.incidentDays,
    refreshSeconds: cfg.refreshSeconds,
  })

  app.get('/portal', async (c) => {
    const s = await session(c, true)
    if (!s) return c.redirect('/portal/login', 303)
    const view = await buildDashboard(uses, cfg, s.customerId)
    const resumed = c.req.query('resumed')
    const known = view.runs.ok && view.runs.value.some((r) => r.id === resumed)
    const n = nonce()
    return page(
      c,
      renderDashboard(view, {
        ...pageContext(s),
        nonce: n,
        notice: known ? `Run ${resumed} was resumed: the steps that did not succeed run again.` : undefined,
      }),
      200,
      n,
    )
  })

  // The page's refresh: reading it does not count as use, so an unattended page still times out.
  app.get('/portal/api/dashboard', async (c) => {
    const s = await session(c, false)
    if (!s)
      return problemJson(c, {
        type: 'about:blank',
        title: 'Unauthorized',
        status: 401,
        detail: 'no valid portal session: sign in at /portal/login',
      })
    const view = await buildDashboard(uses, cfg, s.customerId)
    return c.json({
      generatedAt: view.generatedAt,
      view,
      sections: await renderSections(view, pageContext(s)),
    })
  })

  app.post('/portal/runs/:id/resume', async (c) => {
    const s = await session(c, false)
    if (!s) return c.redirect('/portal/login', 303)
    const checked = await checkedForm(c, s)
    if (!checked.form) return refuse(c, 403, 'Resume refused', checked.refused)
    const runId = c.req.param('id')
    try {
      await uses.orchestrator.resumeRun(s.customerId, runId)
    } catch (err) {
      if (!(err instanceof DomainError)) throw err
      const status = PROBLEMS[err.code].status
      // Another customer's run is "not found", exactly like an unknown one.
      return refuse(c, status, status === 404 ? 'Run not found' : 'Run not resumed', err.message)
    }
    log.info('portal resumed a run', { customerId: s.customerId, runId })
    return c.redirect(`/portal?resumed=${encodeURIComponent(runId)}#runs`, 303)
  })

  app.get('/portal/credits/:file{\\d{4}-(?:0[1-9]|1[0-2])\\.(?:html|csv)}', async (c) => {
    const s = await session(c, true)
    if (!s) return c.redirect('/portal/login', 303)
    const [month, format] = c.req.param('file').split('.') as [string, 'html' | 'csv']
    if (!isMonthKey(month) || parseMonth(month).start > new Date())
      return refuse(c, 404, 'No such report', `${month} has not begun.`)
    const report = await uses.sla.creditReport(s.customerId, month)
    if (format === 'csv')
      return c.body(renderCsv(report), 200, {
        'Content-Type': 'text/csv; charset=utf-8',
        'Content-Disposition': `attachment; filename="sla-credits-${month}.csv"`,
      })
    return c.html(renderHtml(report), 200, { 'Content-Security-Policy': REPORT_CSP })
  })

  app.all('/portal/*', (c) => refuse(c, 404, 'Not found', 'There is no such page in the portal.'))
  return app
}
