// The incidents HTTP API: what works, what is refused (bad input), who is refused (other tenants,
// unsigned webhooks) — and customer notices delivered to a signed webhook.
import { createHmac } from 'node:crypto'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { createClient } from '@clickhouse/client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildReport, renderMarkdown } from '../../src/incidents/report.ts'
import { getIncident } from '../../src/incidents/store.ts'
import { queueCustomerNotification } from '../../src/notify/index.ts'
import type { TestSteward } from '../helpers/app.ts'
import {
  evaluateAt,
  insertEvents,
  loopbackWebhooks,
  minutes,
  runs,
  startIncidentSteward,
  testEpoch,
  WEBHOOK_SECRET,
  waitFor,
} from './support.ts'

interface Received {
  headers: Record<string, string | string[] | undefined>
  body: string
}
let s: TestSteward
let receiver: Server
const received: Received[] = []
const tokens: Record<string, string> = {}
let acmeIncident: string
let globexIncident: string
const t0 = testEpoch()
const CUSTOMER_SECRET = 'acme-webhook-secret-0123456789'

beforeAll(async () => {
  receiver = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      received.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') })
      res.writeHead(204).end()
    })
  })
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', () => r()))
  const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`
  s = await startIncidentSteward(undefined, {}, loopbackWebhooks())
  expect(
    (
      await s.api('POST', '/v1/customers', {
        id: 'acme',
        name: 'Acme',
        webhookUrl: url,
        webhookSecret: CUSTOMER_SECRET,
      })
    ).status,
  ).toBe(201)
  expect((await s.api('POST', '/v1/customers', { id: 'globex', name: 'Globex' })).status).toBe(201)
  for (const id of ['acme', 'globex']) {
    tokens[id] = (
      (await (await s.api('POST', `/v1/customers/${id}/tokens`, {})).json()) as { token: string }
    ).token
  }
  await insertEvents(s.deps.clickhouse!, [
    ...runs('acme', t0, 40, 20, 4 * 60_000),
    ...runs('globex', t0, 40, 30, 4 * 60_000),
  ])
  await evaluateAt(s, t0)
  const list = (await (await s.api('GET', '/v1/incidents')).json()) as {
    items: { id: string; scope: string }[]
  }
  acmeIncident = list.items.find((i) => i.scope === 'customer:acme')!.id
  globexIncident = list.items.find((i) => i.scope === 'customer:globex')!.id
})
afterAll(async () => {
  await s?.stop()
  receiver?.close()
})

const signed = (body: string, secret = WEBHOOK_SECRET) => ({
  'content-type': 'application/json',
  'x-pagerduty-signature': `v1=${createHmac('sha256', secret).update(body).digest('hex')}`,
})
const pdEvent = (type: string, key: string) =>
  JSON.stringify({
    event: {
      id: 'EV1',
      event_type: type,
      resource_type: 'incident',
      data: { id: 'PD1', type: 'incident', incident_key: key },
    },
  })
const get = async (id: string, token?: string) =>
  (await s.api('GET', `/v1/incidents/${id}`, undefined, token)).json() as Promise<Record<string, unknown>>

describe('what works', () => {
  it('sends each affected customer an "investigating" notice, signed with its webhook secret', async () => {
    const got = await waitFor(
      async () => received.find((r) => r.body.includes('incident.investigating')),
      'notice',
    )
    const ts = String(got.headers['x-steward-timestamp'])
    const expected = `v1=${createHmac('sha256', CUSTOMER_SECRET).update(`${ts}.${got.body}`).digest('hex')}`
    expect(got.headers['x-steward-signature']).toBe(expected)
    const body = JSON.parse(got.body) as { customerId: string; payload: { incidentId: string } }
    expect(body).toMatchObject({ customerId: 'acme', payload: { incidentId: acmeIncident } })
    // Globex has no webhook: its notice is recorded as skipped, never sent to acme's.
    expect(received.every((r) => !r.body.includes(globexIncident))).toBe(true)
  })

  it('posts an operator update to the timeline and to the customers', async () => {
    const res = await s.api('POST', `/v1/incidents/${acmeIncident}/updates`, {
      message: 'Failover in progress',
    })
    expect(res.status).toBe(201)
    expect(await res.json()).toEqual({ queued: 1 })
    await waitFor(async () => received.find((r) => r.body.includes('Failover in progress')), 'update notice')
    const i = await get(acmeIncident)
    expect(
      (i.timeline as { kind: string; message: string }[]).some(
        (t) => t.kind === 'update' && t.message === 'Failover in progress',
      ),
    ).toBe(true)
  })

  it('mirrors an acknowledge done in PagerDuty (signed v3 webhook)', async () => {
    const body = pdEvent('incident.acknowledged', acmeIncident)
    const res = await s.api('POST', '/v1/integrations/pagerduty/webhook', body, null, signed(body))
    expect(res.status).toBe(200)
    expect(await res.json()).toMatchObject({ status: 'acknowledged', incidentId: acmeIncident })
    expect((await get(acmeIncident)).status).toBe('acknowledged')
  })

  it('accepts a signature list during secret rotation', async () => {
    const body = pdEvent('incident.priority_updated', acmeIncident)
    const headers = signed(body)
    headers['x-pagerduty-signature'] = `v1=${'0'.repeat(64)}, ${headers['x-pagerduty-signature']}`
    const res = await s.api('POST', '/v1/integrations/pagerduty/webhook', body, null, headers)
    expect(res.status).toBe(200)
    expect(await res.json()).toMatchObject({ status: 'noted' })
  })

  it('resolves on operator request, notifies customers, and answers 409 when asked again', async () => {
    const res = await s.api('POST', `/v1/incidents/${acmeIncident}/resolve`)
    expect(res.status).toBe(200)
    expect(await res.json()).toMatchObject({ status: 'resolved', resolvedBy: 'operator' })
    await waitFor(async () => received.find((r) => r.body.includes('incident.resolved')), 'resolved notice')
    expect((await s.api('POST', `/v1/incidents/${acmeIncident}/resolve`)).status).toBe(409)
    expect((await s.api('POST', `/v1/incidents/${acmeIncident}/acknowledge`)).status).toBe(409)
  })

  it('keeps root cause and prevention and reports the incident in JSON and Markdown', async () => {
    const patch = await s.api('PATCH', `/v1/incidents/${acmeIncident}`, {
      rootCause: 'A bad model rollout failed half the runs.',
      prevention: 'Canary model rollouts.',
    })
    expect(patch.status).toBe(200)
    const report = (await (await s.api('GET', `/v1/incidents/${acmeIncident}/report`)).json()) as Record<
      string,
      unknown
    >
    expect(report).toMatchObject({
      rootCause: 'A bad model rollout failed half the runs.',
      prevention: 'Canary model rollouts.',
    })
    expect(report.affectedCustomers).toEqual([
      expect.objectContaining({ customerId: 'acme', failedRuns: 20, finishedRuns: 40 }),
    ])
    expect(report.affectedRuns).toBe(20)
    expect(report.recoverySeconds).toBeGreaterThanOrEqual(0)
    // Detection runs from the first failed run (the failures were spread over ~2 min before t0).
    expect(report.detectionSeconds).toBeGreaterThan(100)
    expect(report.detectionSeconds).toBeLessThan(130)
    // 20 failed runs against a 30-day budget of 40 × 1% = 0.4 runs: 50 times the budget.
    expect(
      (report.affectedCustomers as { successBudgetConsumed: number }[])[0]!.successBudgetConsumed,
    ).toBeCloseTo(50, 5)
    const md = await s.api('GET', `/v1/incidents/${acmeIncident}/report?format=markdown`)
    expect(md.headers.get('content-type')).toMatch(/text\/markdown/)
    const text = await md.text()
    expect(text).toContain(`# Incident ${acmeIncident}`)
    expect(text).toContain('Canary model rollouts.')
    expect(text).toMatch(/\| acme \| 20 \| 40 \|/)
  })

  it('still reports from PostgreSQL when ClickHouse cannot be read, saying what is missing', async () => {
    const unreachable = createClient({ url: 'http://127.0.0.1:9', request_timeout: 2000 })
    const incident = (await getIncident(s.deps.pool, acmeIncident))!
    const report = await buildReport(incident, [], unreachable, s.deps.config.incidents.rules)
    await unreachable.close()
    expect(report.telemetryError).toMatch(/telemetry unavailable/)
    expect(report.rootCause).toBe('A bad model rollout failed half the runs.')
    expect(renderMarkdown(report)).toContain('Impact figures missing')
  })

  it("delivers other modules' notices through the same outbox, retrying a failing webhook", async () => {
    const seen: Received[] = []
    const flaky = createServer((req, res) => {
      const chunks: Buffer[] = []
      req.on('data', (c: Buffer) => chunks.push(c))
      req.on('end', () => {
        seen.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') })
        res.writeHead(seen.length <= 2 ? 503 : 200).end()
      })
    })
    await new Promise<void>((r) => flaky.listen(0, '127.0.0.1', () => r()))
    try {
      const webhookUrl = `http://127.0.0.1:${(flaky.address() as AddressInfo).port}/`
      expect(
        (await s.api('POST', '/v1/customers', { id: 'initech', name: 'Initech', webhookUrl })).status,
      ).toBe(201)
      await queueCustomerNotification(s.deps.pool, {
        customerId: 'initech',
        kind: 'sla.credit_issued',
        dedupKey: 'credit:2026-01',
        payload: { amount: '12.00' },
      })
      await waitFor(async () => seen.length >= 3, 'three attempts')
      await new Promise((r) => setTimeout(r, 300))
      expect(seen).toHaveLength(3)
      expect(new Set(seen.map((r) => r.headers['x-steward-delivery'])).size).toBe(1)
      expect(JSON.parse(seen[2]!.body)).toMatchObject({
        kind: 'sla.credit_issued',
        customerId: 'initech',
        payload: { amount: '12.00' },
      })
      // Unsigned: this customer has no webhook secret.
      expect(seen[0]!.headers['x-steward-signature']).toBeUndefined()
    } finally {
      flaky.close()
    }
  })

  it('exposes open incidents by severity on /metrics', async () => {
    const text = await (await s.api('GET', '/metrics')).text()
    expect(text).toMatch(/steward_incidents_open\{severity="critical"\} 1/)
    expect(text).toMatch(/steward_webhook_deliveries_total\{outcome="delivered"\} [3-9]/)
  })
})

describe('what is refused', () => {
  it('refuses a PagerDuty webhook with a bad signature, and changes nothing', async () => {
    const body = pdEvent('incident.resolved', globexIncident)
    for (const headers of [signed(body, 'wrong-secret'), { 'content-type': 'application/json' }]) {
      const res = await s.api('POST', '/v1/integrations/pagerduty/webhook', body, null, headers)
      expect(res.status).toBe(401)
      expect(res.headers.get('content-type')).toMatch(/problem\+json/)
    }
    // A valid signature over a different body does not authorise this one.
    const other = pdEvent('incident.resolved', acmeIncident)
    expect(
      (await s.api('POST', '/v1/integrations/pagerduty/webhook', body, null, signed(other))).status,
    ).toBe(401)
    expect((await get(globexIncident)).status).toBe('triggered')
  })

  it('refuses an oversized webhook body with 413 before reading it', async () => {
    const body = JSON.stringify({
      event: {
        event_type: 'incident.resolved',
        data: { incident_key: globexIncident },
        pad: 'x'.repeat(1_100_000),
      },
    })
    const res = await s.api('POST', '/v1/integrations/pagerduty/webhook', body, null, signed(body))
    expect(res.status).toBe(413)
    expect((await get(globexIncident)).status).toBe('triggered')
  })

  it('names the bad field in problem+json', async () => {
    const bad = await s.api('PATCH', `/v1/incidents/${globexIncident}`, { rootCause: '' })
    expect(bad.status).toBe(400)
    expect(((await bad.json()) as { errors: { path: string }[] }).errors[0]!.path).toBe('rootCause')
    const id = await s.api('GET', '/v1/incidents/not-an-id')
    expect(id.status).toBe(400)
    expect(((await id.json()) as { errors: { path: string }[] }).errors[0]!.path).toBe('param.id')
    const silence = await s.api('POST', '/v1/incident-silences', {
      endsAt: minutes(t0, -1).toISOString(),
      reason: 'x',
    })
    expect(silence.status).toBe(400)
    expect(((await silence.json()) as { errors: { path: string }[] }).errors.map((e) => e.path)).toContain(
      'endsAt',
    )
    const update = await s.api('POST', `/v1/incidents/${globexIncident}/updates`, { message: '', extra: 1 })
    expect(update.status).toBe(400)
  })

  it('answers 404 for an unknown incident', async () => {
    expect((await s.api('GET', '/v1/incidents/inc_00000000-0000-0000-0000-000000000000')).status).toBe(404)
  })
})

describe('who is refused', () => {
  it('shows a customer only the incidents that affect it', async () => {
    const mine = (await (await s.api('GET', '/v1/incidents', undefined, tokens.acme)).json()) as {
      items: { id: string }[]
    }
    expect(mine.items.map((i) => i.id)).toEqual([acmeIncident])
    const theirs = (await (await s.api('GET', '/v1/incidents', undefined, tokens.globex)).json()) as {
      items: { id: string }[]
    }
    expect(theirs.items.map((i) => i.id)).toEqual([globexIncident])
    expect((await s.api('GET', `/v1/incidents/${globexIncident}`, undefined, tokens.acme)).status).toBe(404)
    expect(
      (await s.api('GET', `/v1/incidents/${globexIncident}/report`, undefined, tokens.acme)).status,
    ).toBe(404)
    expect((await s.api('GET', '/v1/incidents?customerId=globex', undefined, tokens.acme)).status).toBe(403)
  })

  it('gives a customer its view without internal evaluations and pages', async () => {
    const i = await get(acmeIncident, tokens.acme)
    expect(i.details).toBeUndefined()
    const kinds = new Set((i.timeline as { kind: string }[]).map((t) => t.kind))
    // Transitions, operators' updates and recovery estimates; never evaluations or pages.
    expect([...kinds].every((k) => k === 'transition' || k === 'update' || k === 'estimate')).toBe(true)
    expect(kinds.has('estimate')).toBe(true)
  })

  it('lets only the admin change an incident', async () => {
    for (const [method, path, body] of [
      ['POST', `/v1/incidents/${acmeIncident}/acknowledge`, undefined],
      ['POST', `/v1/incidents/${acmeIncident}/updates`, { message: 'hi' }],
      ['PATCH', `/v1/incidents/${acmeIncident}`, { rootCause: 'x' }],
      ['POST', '/v1/incident-silences', { endsAt: minutes(new Date(), 10).toISOString(), reason: 'x' }],
    ] as const) {
      expect((await s.api(method, path, body, tokens.acme)).status).toBe(403)
    }
    expect((await s.api('GET', '/v1/incidents', undefined, null)).status).toBe(401)
  })
})
