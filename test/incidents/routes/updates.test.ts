// POST /v1/incidents/{id}/updates: what works (the timeline and every affected customer's webhook),
// what is refused (bad input, unknown incidents), who is refused (customer tokens). Updates with a
// recovery estimate: test/incidents/estimates.test.ts.
import { describe, expect, it } from 'vitest'
import { waitFor } from '../support.ts'
import { getIncident as get, useIncidentScene } from './steward.ts'

const scene = useIncidentScene()

describe('what works', () => {
  it('posts an operator update to the timeline and to the customers', async () => {
    const { s, acmeIncident, received } = scene
    const res = await s.api('POST', `/v1/incidents/${acmeIncident}/updates`, {
      message: 'Failover in progress',
    })
    expect(res.status).toBe(201)
    expect(await res.json()).toEqual({ queued: 1 })
    await waitFor(async () => received.find((r) => r.body.includes('Failover in progress')), 'update notice')
    const i = await get(s, acmeIncident)
    expect(
      (i.timeline as { kind: string; message: string }[]).some(
        (t) => t.kind === 'update' && t.message === 'Failover in progress',
      ),
    ).toBe(true)
  })
})

describe('what is refused', () => {
  it('refuses an empty message and unknown fields', async () => {
    const update = await scene.s.api('POST', `/v1/incidents/${scene.globexIncident}/updates`, {
      message: '',
      extra: 1,
    })
    expect(update.status).toBe(400)
  })

  it('answers 404 for an unknown incident', async () => {
    const res = await scene.s.api('POST', '/v1/incidents/inc_00000000-0000-0000-0000-000000000000/updates', {
      message: 'hello',
    })
    expect(res.status).toBe(404)
  })
})

describe('who is refused', () => {
  it('lets only the admin post an update', async () => {
    const { s, tokens, acmeIncident } = scene
    expect(
      (await s.api('POST', `/v1/incidents/${acmeIncident}/updates`, { message: 'hi' }, tokens.acme)).status,
    ).toBe(403)
  })
})
