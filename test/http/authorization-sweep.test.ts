// Who is refused, on every route at once: the sweep walks /openapi.json (every path × method) and
// proves that without a token every /v1 route answers 401, that a customer token (A's) gets 403
// on every admin route, and 403/404 — or an answer without a trace of B — on every route naming
// another customer's (B's) records, filters or bodies, and that none of A's refused requests
// changed a row. Each operation must be classified below: a route added to the document without a
// rule fails the sweep. Public routes are listed with the reason they need no token, and shown to
// say nothing of B either. Routes outside the document (the portal, the docs) are checked too.
import { createHmac } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { TestSteward } from '../helpers/app.ts'
import { exampleBody, type Operation, operationsOf, urlFor } from './operations.ts'
import {
  settle,
  startTenancyScene,
  type TenancyScene,
  type TenantIds,
  tableDigests,
} from './tenancy-scene.ts'

/** Who may call an operation. */
type Rule =
  | { who: 'public'; why: string }
  /** Authenticated otherwise than by bearer token (a signature, ClickHouse credentials). */
  | { who: 'signed'; why: string }
  /** Admin token only: a customer token is a 403. */
  | { who: 'admin' }
  /** The admin, or a customer token for its own customer's records only. */
  | { who: 'tenant'; refusal?: 'partial-success' }

const admin: Rule = { who: 'admin' }
const tenant: Rule = { who: 'tenant' }
const otlp: Rule = { who: 'tenant', refusal: 'partial-success' }

const RULES: Record<string, Rule> = {
  'GET /healthz': { who: 'public', why: 'liveness for probes and orchestrators: a version, nothing else' },
  'GET /readyz': {
    who: 'public',
    why: 'readiness for load balancers: engines and module health, no tenant data',
  },
  'GET /metrics': {
    who: 'public',
    why: 'Prometheus scrape: per-customer series only with STEWARD_METRICS_TOKEN',
  },
  'POST /v1/customers': admin,
  'GET /v1/customers': tenant,
  'GET /v1/customers/{id}': tenant,
  'PATCH /v1/customers/{id}': admin,
  'POST /v1/customers/{id}/tokens': admin,
  'DELETE /v1/customers/{id}/tokens/{tokenId}': admin,
  'GET /v1/customers/{id}/contacts': tenant,
  'PUT /v1/customers/{id}/contacts': admin,
  'GET /v1/customers/{id}/budget': tenant,
  'POST /v1/customers/{id}/budget/actions': admin,
  'POST /v1/events': tenant,
  'POST /v1/otlp/v1/traces': otlp,
  'POST /v1/otlp/v1/logs': otlp,
  'POST /v1/otlp/v1/metrics': otlp,
  'POST /v1/runs': tenant,
  'GET /v1/runs': tenant,
  'GET /v1/runs/{id}': tenant,
  'POST /v1/runs/{id}/resume': tenant,
  'POST /v1/runs/{id}/cancel': tenant,
  'GET /v1/jobs/{id}': tenant,
  'POST /v1/jobs/{id}/retry': tenant,
  'GET /v1/dlq': tenant,
  'POST /v1/dlq/{jobId}/retry': tenant,
  'GET /v1/queues': admin,
  'GET /v1/workers': admin,
  'GET /v1/sla/status': tenant,
  'GET /v1/sla/credits': tenant,
  'GET /v1/sla/billing-adjustments': tenant,
  'POST /v1/sla/credits/{id}/adjustments': admin,
  'POST /v1/sla/recompute': admin,
  'POST /v1/sla/close': admin,
  'GET /v1/sla/plans/{customerId}': tenant,
  'POST /v1/sla/plans/{customerId}': admin,
  'GET /v1/sla/maintenance': tenant,
  'POST /v1/sla/maintenance': admin,
  'DELETE /v1/sla/maintenance/{id}': admin,
  'POST /v1/sla/months/{month}/release': admin,
  'GET /v1/sla/audit': admin,
  'GET /v1/costs': admin,
  'GET /v1/incidents': tenant,
  'GET /v1/incidents/{id}': tenant,
  'PATCH /v1/incidents/{id}': admin,
  'POST /v1/incidents/{id}/acknowledge': admin,
  'POST /v1/incidents/{id}/resolve': admin,
  'POST /v1/incidents/{id}/updates': admin,
  'GET /v1/incidents/{id}/report': tenant,
  'POST /v1/incident-silences': admin,
  'DELETE /v1/incident-silences/{id}': admin,
  'POST /v1/integrations/pagerduty/webhook': {
    who: 'signed',
    why: 'PagerDuty signs each webhook with X-PagerDuty-Signature (HMAC of the body); no bearer token',
  },
  'GET /v1/status': {
    who: 'public',
    why: "the public status page's JSON: components and incidents, no tenant",
  },
  'GET /status': { who: 'public', why: 'the public status page (HTML)' },
  'GET /status/feed.atom': { who: 'public', why: 'the public status page as an Atom feed' },
  'GET /clickhouse': {
    who: 'signed',
    why: 'ClickHouse HTTP protocol for Grafana: basic auth, admin or Grafana token',
  },
  'POST /clickhouse': { who: 'signed', why: 'as GET /clickhouse, the query in the body' },
  'GET /clickhouse/ping': { who: 'public', why: 'ClickHouse liveness ("Ok."), as ClickHouse answers it' },
}

/** Pages outside /openapi.json, reachable without a token: none may show B. */
const OUTSIDE_DOCUMENT: Record<string, string> = {
  '/openapi.json': 'the API description',
  '/docs': 'Swagger UI over /openapi.json',
  '/portal/login': "the portal's sign-in form (a session starts only with a valid token)",
  '/portal': 'the portal itself: without a session it sends the browser to sign in',
  '/portal/api/dashboard': "the portal page's refresh: without a session, refused",
}

let scene: TenancyScene
let s: TestSteward
let operations: Operation[]
beforeAll(async () => {
  scene = await startTenancyScene()
  s = scene.s
  operations = await operationsOf(s)
})
afterAll(async () => {
  await scene?.s.stop()
})

/** B's identifiers that must not reach A, minus those A's request itself named. */
function leaked(text: string, b: TenantIds, sent: string): string[] {
  const ids = [
    b.customerId,
    b.name,
    b.runId,
    b.jobId,
    b.deadJobId,
    b.incidentId,
    b.contactEmail,
    b.projectId,
    b.planFee,
  ]
  return ids.filter((id) => text.includes(id) && !sent.includes(id))
}

const send = (
  o: Operation,
  url: string,
  body: unknown,
  token: string | null,
  headers?: Record<string, string>,
) => s.api(o.method, url, body, token, headers)

const rulesOf = () => operations.map((o) => [o, RULES[o.key]] as const)

describe('the sweep', () => {
  it('classifies every operation of /openapi.json, and only those', () => {
    const documented = operations.map((o) => o.key)
    expect(
      documented.filter((k) => !RULES[k]),
      'operations without a rule',
    ).toEqual([])
    expect(
      Object.keys(RULES).filter((k) => !documented.includes(k)),
      'rules without an operation',
    ).toEqual([])
    // The document's own word: a summary saying "(admin)" or "(admin; …)" is an admin route here.
    for (const o of operations)
      if (/\(admin[);]/.test(o.op.summary ?? '')) expect(RULES[o.key], o.key).toEqual(admin)
    // Every route that does not declare bearer security is public or signed, and vice versa.
    for (const [o, rule] of rulesOf()) {
      const bearer = JSON.stringify(o.op.security ?? []).includes('bearerAuth')
      expect(bearer, `${o.key} is ${rule!.who}`).toBe(rule!.who === 'admin' || rule!.who === 'tenant')
    }
  })
})

describe('who is refused', () => {
  let before: Record<string, string>
  beforeAll(async () => {
    await settle(s)
    before = await tableDigests(s)
  })

  it('answers 401 to every /v1 route without a token, and the signed routes to no signature', async () => {
    for (const [o, rule] of rulesOf()) {
      if (rule!.who === 'public') continue
      const res = await send(o, urlFor(o, scene, scene.b, true), exampleBody(o, scene.b), null)
      const expected = o.template.startsWith('/clickhouse') ? 403 : 401
      expect(res.status, o.key).toBe(expected)
      expect(leaked(await res.text(), scene.b, ''), o.key).toEqual([])
    }
  })

  it("refuses A's token on the signed routes: it is neither a signature nor ClickHouse's password", async () => {
    for (const [o, rule] of rulesOf()) {
      if (rule!.who !== 'signed') continue
      const url = urlFor(o, scene, scene.b, true)
      const headers: Record<string, string> = o.template.startsWith('/clickhouse')
        ? { authorization: `Basic ${Buffer.from(`steward:${scene.a.token}`).toString('base64')}` }
        : {
            'x-pagerduty-signature': `v1=${createHmac('sha256', scene.a.token)
              .update(JSON.stringify(exampleBody(o, scene.b)))
              .digest('hex')}`,
          }
      const res = await send(
        o,
        url,
        exampleBody(o, scene.b),
        o.template.startsWith('/clickhouse') ? null : scene.a.token,
        headers,
      )
      expect(res.status, o.key).toBe(o.template.startsWith('/clickhouse') ? 403 : 401)
      expect(leaked(await res.text(), scene.b, url), o.key).toEqual([])
    }
  })

  it("answers 403 to A's token on every admin route, naming B's records or its own", async () => {
    for (const [o, rule] of rulesOf()) {
      if (rule!.who !== 'admin') continue
      for (const t of [scene.b, scene.a]) {
        const url = urlFor(o, scene, t, true)
        const body = exampleBody(o, t)
        const res = await send(o, url, body, scene.a.token)
        const text = await res.text()
        expect(res.status, `${o.key} naming ${t.customerId}: ${text}`).toBe(403)
        expect(res.headers.get('content-type')).toContain('application/problem+json')
        expect(leaked(text, scene.b, url + JSON.stringify(body)), o.key).toEqual([])
      }
    }
  })

  it("answers 403 or 404 to A's token on every route naming B's records, filter or body", async () => {
    for (const [o, rule] of rulesOf()) {
      if (rule!.who !== 'tenant') continue
      const url = urlFor(o, scene, scene.b, true)
      const body = exampleBody(o, scene.b)
      const namesB =
        url.includes(scene.b.customerId) ||
        /\{/.test(o.template) ||
        JSON.stringify(body ?? '').includes(scene.b.customerId)
      if (!namesB) continue // nothing of B to name: the listing below shows what A sees
      const res = await send(o, url, body, scene.a.token)
      const text = await res.text()
      if (rule!.refusal === 'partial-success') {
        // OTLP refuses item by item: the whole export is answered, B's items counted as rejected.
        expect(res.status, `${o.key}: ${text}`).toBe(200)
        const partial = JSON.parse(text).partialSuccess as Record<string, unknown>
        const rejected = Object.entries(partial).find(([k]) => k.startsWith('rejected'))
        expect(Number(rejected?.[1]), `${o.key}: ${text}`).toBe(1)
      } else {
        expect([403, 404], `${o.key}: ${text}`).toContain(res.status)
        expect(res.headers.get('content-type')).toContain('application/problem+json')
      }
      expect(leaked(text, scene.b, url + JSON.stringify(body)), o.key).toEqual([])
    }
  })

  it('shows A, on every listing and read it may use, its own records and nothing of B', async () => {
    for (const [o, rule] of rulesOf()) {
      if (rule!.who !== 'tenant' || o.method !== 'GET') continue
      const url = urlFor(o, scene, scene.a, false)
      const res = await send(o, url, undefined, scene.a.token)
      const text = await res.text()
      expect(res.status, `${o.key}: ${text}`).toBe(200)
      expect(leaked(text, scene.b, ''), o.key).toEqual([])
      // The same read by B shows B's records: the sweep asks for something that is there.
      const theirs = await (await send(o, urlFor(o, scene, scene.b, false), undefined, scene.b.token)).text()
      expect(leaked(theirs, scene.b, '').length, `${o.key} as B: ${theirs}`).toBeGreaterThan(0)
    }
  })

  it('shows nothing of B on the public routes, with or without a token', async () => {
    for (const [o, rule] of rulesOf()) {
      if (rule!.who !== 'public') continue
      for (const token of [null, scene.a.token]) {
        const res = await send(o, urlFor(o, scene, scene.b, false), undefined, token)
        expect(res.status, o.key).toBeLessThan(300)
        expect(leaked(await res.text(), scene.b, ''), `${o.key}: ${rule!.why}`).toEqual([])
      }
    }
    for (const [path, why] of Object.entries(OUTSIDE_DOCUMENT)) {
      const res = await s.fetch(new Request(`http://steward.test${path}`))
      expect(res.status, path).toBeLessThan(500)
      expect(leaked(await res.text(), scene.b, ''), `${path}: ${why}`).toEqual([])
    }
  })

  it("changed no row with any of A's or the anonymous requests", async () => {
    await settle(s)
    expect(await tableDigests(s)).toEqual(before)
  })
})
