// POST /v1/integrations/pagerduty/webhook: what works (acknowledge mirrored, secret rotation), what
// is refused (an oversized body), who is refused (a missing or wrong signature, or one over another
// body, a replayed or stale event). Resolves mirrored without echo: test/incidents/paging.test.ts.
import { createHmac } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { getIncident as get, useIncidentScene } from './routes/steward.ts'
import { WEBHOOK_SECRET } from './support.ts'

const scene = useIncidentScene()

const signed = (body: string, secret = WEBHOOK_SECRET) => ({
  'content-type': 'application/json',
  'x-pagerduty-signature': `v1=${createHmac('sha256', secret).update(body).digest('hex')}`,
})
let eventIds = 0
const pdEvent = (type: string, key: string, opts: { id?: string; occurredAt?: Date } = {}) =>
  JSON.stringify({
    event: {
      id: opts.id ?? `EV${++eventIds}`,
      occurred_at: (opts.occurredAt ?? new Date()).toISOString(),
      event_type: type,
      resource_type: 'incident',
      data: { id: 'PD1', type: 'incident', incident_key: key },
    },
  })

describe('what works', () => {
  it('mirrors an acknowledge done in PagerDuty (signed v3 webhook)', async () => {
    const { s, acmeIncident } = scene
    const body = pdEvent('incident.acknowledged', acmeIncident)
    const res = await s.api('POST', '/v1/integrations/pagerduty/webhook', body, null, signed(body))
    expect(res.status).toBe(200)
    expect(await res.json()).toMatchObject({ status: 'acknowledged', incidentId: acmeIncident })
    expect((await get(s, acmeIncident)).status).toBe('acknowledged')
  })

  it('accepts a signature list during secret rotation', async () => {
    const body = pdEvent('incident.priority_updated', scene.acmeIncident)
    const headers = signed(body)
    headers['x-pagerduty-signature'] = `v1=${'0'.repeat(64)}, ${headers['x-pagerduty-signature']}`
    const res = await scene.s.api('POST', '/v1/integrations/pagerduty/webhook', body, null, headers)
    expect(res.status).toBe(200)
    expect(await res.json()).toMatchObject({ status: 'noted' })
  })
})

describe('what is refused', () => {
  it('refuses an oversized webhook body with 413 before reading it', async () => {
    const { s, globexIncident } = scene
    const body = JSON.stringify({
      event: {
        event_type: 'incident.resolved',
        data: { incident_key: globexIncident },
        pad: 'x'.repeat(1_100_000),
      },
    })
    const res = await s.api('POST', '/v1/integrations/pagerduty/webhook', body, null, signed(body))
    expect(res.status).toBe(413)
    expect((await get(s, globexIncident)).status).toBe('triggered')
  })
})

describe('replays', () => {
  const post = (body: string) =>
    scene.s.api('POST', '/v1/integrations/pagerduty/webhook', body, null, signed(body))

  it('answers a redelivered event id as a duplicate and changes nothing', async () => {
    const { s, globexIncident } = scene
    const first = pdEvent('incident.priority_updated', globexIncident, { id: 'EV-replayed' })
    expect(await (await post(first)).json()).toMatchObject({ status: 'noted' })
    // The same signed event id, now carrying a resolve: applied once only, so nothing happens.
    const replay = pdEvent('incident.resolved', globexIncident, { id: 'EV-replayed' })
    const res = await post(replay)
    expect(res.status).toBe(200)
    expect(await res.json()).toEqual({ status: 'duplicate' })
    expect((await get(s, globexIncident)).status).toBe('triggered')
  })

  it('answers an event older than the replay window (or from the future) as stale, changing nothing', async () => {
    const { s, globexIncident } = scene
    for (const occurredAt of [new Date(Date.now() - 2 * 3_600_000), new Date(Date.now() + 3_600_000)]) {
      const res = await post(pdEvent('incident.resolved', globexIncident, { occurredAt }))
      expect(res.status).toBe(200)
      expect(await res.json()).toEqual({ status: 'stale' })
    }
    expect((await get(s, globexIncident)).status).toBe('triggered')
  })

  it('refuses an event without id or occurred_at with 400', async () => {
    const body = JSON.stringify({
      event: { event_type: 'incident.resolved', data: { incident_key: scene.globexIncident } },
    })
    const res = await post(body)
    expect(res.status).toBe(400)
    expect(((await res.json()) as { detail: string }).detail).toMatch(/occurred_at/)
    expect((await get(scene.s, scene.globexIncident)).status).toBe('triggered')
  })
})

describe('who is refused', () => {
  it('refuses a PagerDuty webhook with a bad signature, and changes nothing', async () => {
    const { s, acmeIncident, globexIncident } = scene
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
    expect((await get(s, globexIncident)).status).toBe('triggered')
  })
})
