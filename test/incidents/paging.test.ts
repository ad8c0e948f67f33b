// Detection → incident → PagerDuty, against the local HTTPS stand-in of the Events API v2 reached by
// the real @pagerduty/pdjs client (its CA trusted through the https.Agent, nothing else).
import { createHmac } from 'node:crypto'
import { Counter, Registry } from 'prom-client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createEgressPolicy } from '../../src/egress/index.ts'
import { drainChannel } from '../../src/incidents/deliveries.ts'
import { type PagerDutyStandIn, startPagerDutyStandIn } from '../../src/incidents/pagerduty-standin.ts'
import type { TenantsModule } from '../../src/tenants/index.ts'
import type { TestSteward } from '../helpers/app.ts'
import { quietLog } from '../helpers/db.ts'
import {
  deliveriesOf,
  evaluateAt,
  incidentsOf,
  insertEvents,
  minutes,
  openIncidents,
  ROUTING_KEY,
  runs,
  startIncidentSteward,
  testEpoch,
  WEBHOOK_SECRET,
  waitFor,
} from './support.ts'

let pd: PagerDutyStandIn
let s: TestSteward
beforeAll(async () => {
  pd = await startPagerDutyStandIn()
  s = await startIncidentSteward(pd)
  for (const id of [
    'acme',
    'slowburn',
    'flappy',
    'stubborn',
    'quiet',
    'limited',
    'outage',
    'twice',
    'pdside',
  ])
    expect((await s.api('POST', '/v1/customers', { id, name: id })).status).toBe(201)
})
afterAll(async () => {
  await s?.stop()
  await pd?.close()
})

const eventsFor = (key: string) => pd.received.filter((r) => r.body?.dedup_key === key)
const acceptedFor = (key: string, action: string) =>
  pd.accepted().filter((r) => r.dedupKey === key && r.body?.event_action === action)

async function delivered(incidentId: string, n: number) {
  return waitFor(async () => {
    const rows = await deliveriesOf(s, incidentId)
    return rows.length >= n && rows.every((r) => r.status === 'delivered') && rows
  }, `${n} deliveries of ${incidentId}`)
}

describe('a failure burst', () => {
  const t0 = testEpoch()
  let incidentId: string

  it('opens one incident and sends one trigger whose dedup_key is the incident id', async () => {
    await insertEvents(s.deps.clickhouse!, runs('acme', t0, 40, 20, 4 * 60_000))
    await evaluateAt(s, t0)
    const open = await openIncidents(s, 'success_rate_burn', 'customer:acme')
    expect(open).toHaveLength(1)
    incidentId = open[0]!.id
    await delivered(incidentId, 1)
    const triggers = acceptedFor(incidentId, 'trigger')
    expect(triggers).toHaveLength(1)
    const body = triggers[0]!.body as { routing_key: string; payload: Record<string, unknown> }
    expect(body.routing_key).toHaveLength(32)
    expect(body.payload).toMatchObject({
      severity: 'critical',
      source: 'steward',
      class: 'success_rate_burn',
      component: 'customer:acme',
    })
    expect((body.payload.custom_details as { affected_customers: string[] }).affected_customers).toEqual([
      'acme',
    ])
    expect(String(body.payload.summary).length).toBeLessThanOrEqual(1024)
  })

  it('sends nothing more on repeated evaluations while the condition holds', async () => {
    for (let m = 1; m <= 3; m++) await evaluateAt(s, minutes(t0, m))
    await incidentsOf(s).deliver()
    expect(await openIncidents(s, 'success_rate_burn', 'customer:acme')).toHaveLength(1)
    expect(eventsFor(incidentId)).toHaveLength(1)
  })

  it('mirrors an operator acknowledge to PagerDuty with the same key', async () => {
    const res = await s.api('POST', `/v1/incidents/${incidentId}/acknowledge`)
    expect(res.status).toBe(200)
    await delivered(incidentId, 2)
    expect(acceptedFor(incidentId, 'acknowledge')).toHaveLength(1)
  })

  it('resolves as soon as the SLI has recovered, with the same dedup key, and emits a recovery event', async () => {
    // Recovery: plenty of successful runs after the burst bring every window under its burn rate.
    // An SLO rule does not wait out resolveAfterMinutes: the customer's success rate is back.
    await insertEvents(s.deps.clickhouse!, runs('acme', minutes(t0, 8), 3000, 0, 4 * 60_000))
    await evaluateAt(s, minutes(t0, 8))
    expect((await openIncidents(s, 'success_rate_burn', 'customer:acme'))[0]!.status).toBe('resolved')
    await delivered(incidentId, 3)
    expect(acceptedFor(incidentId, 'resolve')).toHaveLength(1)
    expect(eventsFor(incidentId).map((r) => r.body?.event_action)).toEqual([
      'trigger',
      'acknowledge',
      'resolve',
    ])
    const { rows } = await s.deps.pool
      .query<{ body: { type: string; recoveryKind?: string; detectedAt?: string } }>(
        `SELECT body FROM telemetry_outbox WHERE body->>'incidentId' = $1 OR event_id LIKE $2 ORDER BY seq`,
        [incidentId, `steward:${incidentId}:%`],
      )
      .catch(() => ({ rows: [] }))
    // The relay may already have shipped them; then they are in ClickHouse.
    const shipped = await s.deps.clickhouse!.query({
      query: `SELECT type, action, recovery_kind FROM events FINAL WHERE event_id LIKE {p:String} ORDER BY ts, type`,
      query_params: { p: `steward:${incidentId}:%` },
      format: 'JSONEachRow',
    })
    const kinds = [
      ...rows.map((r) => r.body.type),
      ...(await shipped.json<{ type: string }>()).map((r) => r.type),
    ]
    expect(kinds).toContain('recovery')
    expect(kinds.filter((k) => k === 'incident').length).toBeGreaterThanOrEqual(2)
  })
})

describe('severity', () => {
  it('records a slow burn as a ticket without paging, and pages the same incident when it turns into a page', async () => {
    const t0 = testEpoch()
    // 2 % of runs failing for five hours: twice the 1 % budget — the 3-day ticket pair only.
    await insertEvents(s.deps.clickhouse!, runs('slowburn', t0, 1000, 20, 5 * 3_600_000))
    await evaluateAt(s, t0)
    const [inc] = await openIncidents(s, 'success_rate_burn', 'customer:slowburn')
    expect(inc).toMatchObject({ status: 'triggered', paged: false })
    const severities = () =>
      acceptedFor(inc!.id, 'trigger').map(
        (r) => (r.body as { payload: { severity: string } }).payload.severity,
      )
    // Recorded, not paged: nothing is queued for PagerDuty (and no customer is told).
    expect(await deliveriesOf(s, inc!.id)).toEqual([])
    // Then half the runs of the last minutes fail: the 1 h / 5 min page pair fires.
    await insertEvents(s.deps.clickhouse!, runs('slowburn', minutes(t0, 2), 40, 30, 3 * 60_000))
    await evaluateAt(s, minutes(t0, 2))
    expect(await openIncidents(s, 'success_rate_burn', 'customer:slowburn')).toHaveLength(1)
    await delivered(inc!.id, 1)
    expect(severities()).toEqual(['critical'])
    const detail = (await (await s.api('GET', `/v1/incidents/${inc!.id}`)).json()) as {
      severity: string
      timeline: { message: string }[]
    }
    expect(detail.severity).toBe('critical')
    expect(detail.timeline.some((t) => t.message === 'escalated: warning → critical')).toBe(true)
  })
})

describe('hysteresis', () => {
  it('opens at most one incident for a flapping signal', async () => {
    const t0 = testEpoch()
    // Dead letters in every other minute: the 1-minute DLQ rule fires, clears, fires, clears …
    for (let m = 0; m < 10; m++) {
      if (m % 2 === 0) {
        await insertEvents(
          s.deps.clickhouse!,
          [0, 1, 2].map((i) => ({
            type: 'job' as const,
            customerId: 'flappy',
            runId: 'r1',
            jobId: `j${m}-${i}`,
            stepKey: 'a',
            kind: 'simulate',
            pool: 'default',
            attempt: 4,
            action: 'dead_lettered' as const,
            errorClass: 'agent' as const,
            ts: new Date(minutes(t0, m).getTime() - 1000).toISOString(),
          })),
        )
      }
      await evaluateAt(s, minutes(t0, m))
    }
    const all = await openIncidents(s, 'dlq_growth', 'customer:flappy')
    expect(all).toHaveLength(1)
    expect(all[0]!.status).toBe('triggered')
    await delivered(all[0]!.id, 1)
    expect(eventsFor(all[0]!.id)).toHaveLength(1)
    // Quiet long enough: resolved once.
    await evaluateAt(s, minutes(t0, 10))
    await evaluateAt(s, minutes(t0, 16))
    expect((await openIncidents(s, 'dlq_growth', 'customer:flappy')).map((i) => i.status)).toEqual([
      'resolved',
    ])
  })
})

describe('silences', () => {
  it('records an incident inside a maintenance window without paging, and pages if it outlives the window', async () => {
    const t0 = testEpoch()
    const res = await s.api('POST', '/v1/incident-silences', {
      rule: 'success_rate_burn',
      scope: 'customer:quiet',
      startsAt: minutes(t0, -60).toISOString(),
      endsAt: minutes(t0, 20).toISOString(),
      reason: 'planned database upgrade',
    })
    expect(res.status).toBe(201)
    await insertEvents(s.deps.clickhouse!, runs('quiet', t0, 40, 20, 4 * 60_000))
    await evaluateAt(s, t0)
    await evaluateAt(s, minutes(t0, 1))
    const [inc] = await openIncidents(s, 'success_rate_burn', 'customer:quiet')
    expect(inc).toMatchObject({ status: 'triggered', silenced: true, paged: false })
    await incidentsOf(s).deliver()
    expect(eventsFor(inc!.id)).toHaveLength(0)
    // Past the window and still burning (the 3-day ticket pair): paged now, once.
    await evaluateAt(s, minutes(t0, 21))
    await delivered(inc!.id, 1)
    expect(acceptedFor(inc!.id, 'trigger')).toHaveLength(1)
    expect(
      (acceptedFor(inc!.id, 'trigger')[0]!.body as { payload: { severity: string } }).payload.severity,
    ).toBe('critical')
  })
})

describe('delivery faults', () => {
  it('retries a 429 with backoff and delivers the trigger exactly once', async () => {
    const t0 = testEpoch()
    await insertEvents(s.deps.clickhouse!, runs('limited', t0, 40, 20, 4 * 60_000))
    pd.failNext(1, 429)
    await evaluateAt(s, t0)
    const [inc] = await openIncidents(s, 'success_rate_burn', 'customer:limited')
    const [row] = await delivered(inc!.id, 1)
    expect(row!.attempts).toBe(2)
    expect(eventsFor(inc!.id).map((r) => r.status)).toEqual([429, 202])
    expect(acceptedFor(inc!.id, 'trigger')).toHaveLength(1)
  })

  it('keeps a page while PagerDuty is unreachable and delivers it once it is back', async () => {
    const t0 = testEpoch()
    await pd.stop()
    await insertEvents(s.deps.clickhouse!, runs('outage', t0, 40, 20, 4 * 60_000))
    await evaluateAt(s, t0)
    const [inc] = await openIncidents(s, 'success_rate_burn', 'customer:outage')
    await waitFor(
      async () => ((await deliveriesOf(s, inc!.id))[0]?.attempts ?? 0) >= 3,
      'three failed attempts',
    )
    expect((await deliveriesOf(s, inc!.id))[0]!.status).toBe('pending')
    await pd.start()
    await delivered(inc!.id, 1)
    expect(acceptedFor(inc!.id, 'trigger')).toHaveLength(1)
    expect(eventsFor(inc!.id)).toHaveLength(1)
    const metrics = await (await s.api('GET', '/metrics')).text()
    expect(metrics).toMatch(/steward_pagerduty_deliveries_total\{outcome="retry"\} [1-9]/)
    expect(metrics).toMatch(/steward_pagerduty_deliveries_total\{outcome="rate_limited"\} 1/)
    expect(metrics).toMatch(/steward_incidents_open\{severity="critical"\} [1-9]/)
    const ready = (await (await s.api('GET', '/readyz')).json()) as { incidents: Record<string, unknown> }
    expect(ready.incidents).toMatchObject({ paging: 'enabled' })
  })
})

describe('several instances', () => {
  it('sends a page once when instances drain the outbox at the same moment', async () => {
    const t0 = testEpoch()
    pd.setLatency(300) // a slow PagerDuty keeps the first sender busy while the others look
    try {
      await insertEvents(s.deps.clickhouse!, runs('twice', t0, 40, 20, 4 * 60_000))
      await evaluateAt(s, t0)
      const [inc] = await openIncidents(s, 'success_rate_burn', 'customer:twice')
      const registry = new Registry()
      const counter = (name: string) =>
        new Counter({ name, help: name, labelNames: ['outcome'], registers: [registry] })
      const otherInstance = {
        pool: s.deps.pool,
        log: quietLog,
        delivery: s.deps.config.incidents.delivery,
        pagerduty: { host: pd.host, routingKey: ROUTING_KEY, ca: pd.ca },
        counters: { pagerduty: counter('pd'), webhook: counter('wh') },
        egress: createEgressPolicy(s.deps.config.egress),
        tenants: s.modules.find((m) => m.name === 'tenants') as TenantsModule,
      }
      await Promise.all([
        drainChannel('pagerduty', otherInstance),
        drainChannel('pagerduty', otherInstance),
        incidentsOf(s).deliver(),
      ])
      await delivered(inc!.id, 1)
      expect(eventsFor(inc!.id)).toHaveLength(1)
    } finally {
      pd.setLatency(0)
    }
  })
})

describe('PagerDuty webhooks', () => {
  it('mirrors a resolve done in PagerDuty without echoing it back', async () => {
    const t0 = testEpoch()
    await insertEvents(s.deps.clickhouse!, runs('pdside', t0, 40, 20, 4 * 60_000))
    await evaluateAt(s, t0)
    const [inc] = await openIncidents(s, 'success_rate_burn', 'customer:pdside')
    await delivered(inc!.id, 1)
    const body = JSON.stringify({
      event: {
        id: 'EV2',
        occurred_at: new Date().toISOString(),
        event_type: 'incident.resolved',
        data: { id: 'PD2', type: 'incident', incident_key: inc!.id },
      },
    })
    const signature = `v1=${createHmac('sha256', WEBHOOK_SECRET).update(body).digest('hex')}`
    const res = await s.api('POST', '/v1/integrations/pagerduty/webhook', body, null, {
      'content-type': 'application/json',
      'x-pagerduty-signature': signature,
    })
    expect(res.status).toBe(200)
    const [after] = await openIncidents(s, 'success_rate_burn', 'customer:pdside')
    expect(after!.status).toBe('resolved')
    await incidentsOf(s).deliver()
    expect(eventsFor(inc!.id).map((r) => r.body?.event_action)).toEqual(['trigger'])
    // The same delivery again (PagerDuty retries webhooks) is a duplicate and changes nothing.
    const again = await s.api('POST', '/v1/integrations/pagerduty/webhook', body, null, {
      'content-type': 'application/json',
      'x-pagerduty-signature': signature,
    })
    expect(await again.json()).toMatchObject({ status: 'duplicate' })
  })
})

describe('manual resolution', () => {
  it('does not re-page at once when an operator resolves a condition that still fires', async () => {
    // Operators act in real time, so this scenario runs at the current minute (the last in the file).
    const t0 = new Date(Math.floor(Date.now() / 60_000) * 60_000)
    await insertEvents(s.deps.clickhouse!, runs('stubborn', t0, 40, 20, 4 * 60_000))
    await evaluateAt(s, t0)
    const [first] = await openIncidents(s, 'success_rate_burn', 'customer:stubborn')
    expect((await s.api('POST', `/v1/incidents/${first!.id}/resolve`)).status).toBe(200)
    // The cool-down (10 min) runs from the real moment of the resolve, which a loaded machine may
    // put a minute or two after t0: later evaluations are placed relative to it.
    const resolvedMinute = Math.floor((Date.now() - t0.getTime()) / 60_000)
    await delivered(first!.id, 2)
    await evaluateAt(s, minutes(t0, resolvedMinute + 1))
    await evaluateAt(s, minutes(t0, resolvedMinute + 5))
    expect(await openIncidents(s, 'success_rate_burn', 'customer:stubborn')).toHaveLength(1)
    // Still burning (the 6h/30m pair) after the cool-down: a new incident, with a new dedup key.
    await evaluateAt(s, minutes(t0, resolvedMinute + 11))
    const both = await openIncidents(s, 'success_rate_burn', 'customer:stubborn')
    expect(both.map((i) => i.status)).toEqual(['resolved', 'triggered'])
    await delivered(both[1]!.id, 1)
    expect(acceptedFor(both[1]!.id, 'trigger')).toHaveLength(1)
  })
})
