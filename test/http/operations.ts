// The operations of the served /openapi.json, and how the sweep and the fuzz test fill them in for
// a tenant of the scene: its ids in the path, the query parameters a route needs, and a valid body
// naming it. A parameter or body the tables below do not cover fails loudly, so a new route is
// noticed rather than skipped.
import type { TestSteward } from '../helpers/app.ts'
import { jsonSpan, jsonTraces } from '../ingest/otlp-support.ts'
import type { TenancyScene, TenantIds } from './tenancy-scene.ts'

// biome-ignore lint/suspicious/noExplicitAny: OpenAPI fragments and answers are read loosely
export type Json = any
export interface Operation {
  method: string
  template: string
  key: string
  op: Json
}

/** Every path × method of the served document. */
export async function operationsOf(s: TestSteward): Promise<Operation[]> {
  const doc = (await (await s.api('GET', '/openapi.json', undefined, null)).json()) as Json
  return Object.entries(doc.paths as Record<string, Record<string, Json>>).flatMap(([template, ops]) =>
    Object.entries(ops).map(([method, op]) => ({
      method: method.toUpperCase(),
      template,
      key: `${method.toUpperCase()} ${template}`,
      op,
    })),
  )
}

/** Which of a tenant's ids fills a path parameter, by the path it is in. */
const PATH_IDS: [RegExp, string, (t: TenantIds, sc: TenancyScene) => string][] = [
  [/^\/v1\/customers\/\{id\}/, 'id', (t) => t.customerId],
  [/^\/v1\/customers\/\{id\}\/tokens\/\{tokenId\}$/, 'tokenId', (t) => t.tokenId],
  [/^\/v1\/runs\/\{id\}/, 'id', (t) => t.runId],
  [/^\/v1\/jobs\/\{id\}/, 'id', (t) => t.jobId],
  [/^\/v1\/dlq\/\{jobId\}/, 'jobId', (t) => t.deadJobId],
  [/^\/v1\/sla\/credits\/\{id\}/, 'id', (t) => t.creditId],
  [/^\/v1\/sla\/plans\/\{customerId\}$/, 'customerId', (t) => t.customerId],
  // The scene's one maintenance window is B's; only the admin cancels windows.
  [/^\/v1\/sla\/maintenance\/\{id\}$/, 'id', (_, sc) => sc.maintenanceId],
  // The closed month of the scene, with a credit for each customer.
  [/^\/v1\/sla\/months\/\{month\}\//, 'month', () => '2025-09'],
  [/^\/v1\/incidents\/\{id\}/, 'id', (t) => t.incidentId],
  // The one silence of the scene is B's (scope customer:B); only the admin ends silences.
  [/^\/v1\/incident-silences\/\{id\}$/, 'id', (_, sc) => sc.silenceId],
]

/** The URL of `o` naming `t`'s records; `customerId` in the query only when `filter`. */
export function urlFor(o: Operation, scene: TenancyScene, t: TenantIds, filter: boolean): string {
  const path = o.template.replace(/\{([^}]+)\}/g, (_, name: string) => {
    const fill = PATH_IDS.find(([re, param]) => param === name && re.test(o.template))
    if (!fill) throw new Error(`${o.key}: no tenant id for path parameter {${name}}; add it to PATH_IDS`)
    return encodeURIComponent(fill[2](t, scene))
  })
  const query = new URLSearchParams()
  for (const p of (o.op.parameters ?? []) as Json[]) {
    if (p.in !== 'query') continue
    const value: string | undefined = {
      customerId: filter ? t.customerId : undefined,
      month: '2025-09',
      cycle: '2025-10',
      query: 'SELECT CustomerId FROM events LIMIT 1',
      user: 'steward',
    }[p.name as string]
    if (value !== undefined) query.set(p.name, value)
    else if (p.required) throw new Error(`${o.key}: no value for required query parameter ${p.name}`)
  }
  return query.size ? `${path}?${query}` : path
}

/** A valid body for `o` naming `t` wherever the body names a customer (a customer, a run, an incident). */
export function exampleBody(o: Operation, t: TenantIds): unknown {
  const now = Date.now()
  const resource = { 'service.name': 'agent', 'steward.customer_id': t.customerId }
  const attributes = Object.entries(resource).map(([key, v]) => ({ key, value: { stringValue: v } }))
  const ns = String(BigInt(now) * 1_000_000n)
  const bodies: Record<string, unknown> = {
    'POST /v1/customers': { id: 'sweep-new', name: 'Created by the sweep' },
    'PATCH /v1/customers/{id}': { name: 'Renamed by the sweep' },
    'POST /v1/customers/{id}/tokens': { name: 'sweep' },
    'PUT /v1/customers/{id}/contacts': { contacts: [{ email: 'sweep@example.com' }] },
    'POST /v1/customers/{id}/budget/actions': { action: 'release', reason: 'released by the sweep' },
    'POST /v1/events': [
      {
        eventId: 'sweep-probe',
        ts: new Date(now).toISOString(),
        type: 'probe',
        customerId: t.customerId,
        target: 'api',
        ok: false,
        latencyMs: 5,
      },
    ],
    'POST /v1/otlp/v1/traces': jsonTraces(
      [jsonSpan({ startMs: now, attributes: { 'steward.run_id': t.runId } })],
      resource,
    ),
    'POST /v1/otlp/v1/logs': {
      resourceLogs: [
        {
          resource: { attributes },
          scopeLogs: [
            { scope: { name: 'sweep' }, logRecords: [{ timeUnixNano: ns, body: { stringValue: 'x' } }] },
          ],
        },
      ],
    },
    'POST /v1/otlp/v1/metrics': {
      resourceMetrics: [
        {
          resource: { attributes },
          scopeMetrics: [
            {
              scope: { name: 'sweep' },
              metrics: [{ name: 'sweep.value', gauge: { dataPoints: [{ timeUnixNano: ns, asDouble: 1 }] } }],
            },
          ],
        },
      ],
    },
    'POST /v1/runs': {
      customerId: t.customerId,
      projectId: t.projectId,
      type: 'build',
      steps: [{ key: 'only', kind: 'noop' }],
    },
    'POST /v1/runs/{id}/cancel': { reason: 'sweep' },
    'POST /v1/sla/credits/{id}/adjustments': { kind: 'goodwill', amountCents: 100, reason: 'sweep' },
    'POST /v1/sla/plans/{customerId}': { plan: { monthlyFee: 1 } },
    'POST /v1/sla/maintenance': {
      start: '2025-09-20T00:00:00Z',
      end: '2025-09-20T01:00:00Z',
      reason: 'sweep',
      customerId: t.customerId,
      adjustment: { reason: 'declared late by the sweep' },
    },
    'DELETE /v1/sla/maintenance/{id}': { reason: 'cancelled by the sweep' },
    'POST /v1/sla/months/{month}/release': { reason: 'released by the sweep' },
    'PATCH /v1/incidents/{id}': { rootCause: 'sweep' },
    'POST /v1/incidents/{id}/updates': { message: 'sweep' },
    'POST /v1/incident-silences': {
      scope: `customer:${t.customerId}`,
      endsAt: new Date(now + 3_600_000).toISOString(),
      reason: 'sweep',
    },
    'POST /v1/integrations/pagerduty/webhook': {
      event: {
        id: 'EV-SWEEP',
        event_type: 'incident.resolved',
        resource_type: 'incident',
        data: { id: 'PD1', type: 'incident', incident_key: t.incidentId },
      },
    },
  }
  const body = bodies[o.key]
  if (body === undefined && o.op.requestBody?.required)
    throw new Error(`${o.key}: no sweep body for a route that takes one; add it to exampleBody`)
  return body
}
