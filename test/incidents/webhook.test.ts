// POST /v1/integrations/pagerduty/webhook: what works (acknowledge mirrored, secret rotation), what
// is refused (an oversized body), who is refused (a missing or wrong signature, or one over another
// body). Resolves mirrored without echo: test/incidents/paging.test.ts.
import { createHmac } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { getIncident as get, useIncidentScene } from './routes/steward.ts'
import { WEBHOOK_SECRET } from './support.ts'

const scene = useIncidentScene()

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
