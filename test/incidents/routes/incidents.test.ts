// GET /v1/incidents and /v1/incidents/{id}, acknowledge, resolve and the post-incident fields:
// what works, what is refused (bad input, unknown incidents, a resolved incident), who is refused
// (other tenants, customer tokens changing anything, no token).
import { describe, expect, it } from 'vitest'
import { waitFor } from '../support.ts'
import { getIncident as get, useIncidentScene } from './steward.ts'

const scene = useIncidentScene()

describe('what works', () => {
  it('describes every incidents route in /openapi.json, the report as JSON and Markdown', async () => {
    const doc = (await (await scene.s.api('GET', '/openapi.json', undefined, null)).json()) as {
      paths: Record<string, Record<string, { responses: Record<string, { content?: object }> }>>
    }
    expect(
      Object.keys(doc.paths)
        .filter((p) => p.includes('/incident'))
        .sort(),
    ).toEqual([
      '/v1/incident-silences',
      '/v1/incident-silences/{id}',
      '/v1/incidents',
      '/v1/incidents/{id}',
      '/v1/incidents/{id}/acknowledge',
      '/v1/incidents/{id}/report',
      '/v1/incidents/{id}/resolve',
      '/v1/incidents/{id}/updates',
    ])
    const report = doc.paths['/v1/incidents/{id}/report']!.get!.responses
    expect(Object.keys(report['200']!.content!).sort()).toEqual(['application/json', 'text/markdown'])
    // Its own errors (the app adds those of every authenticated route, e.g. 429 for failed tokens).
    expect(Object.keys(report)).toEqual(expect.arrayContaining(['200', '400', '401', '404']))
    expect(Object.keys(report)).not.toContain('403')
  })

  it('lists incidents newest first and shows the admin one with its whole timeline', async () => {
    const { s, acmeIncident, globexIncident } = scene
    const list = (await (await s.api('GET', '/v1/incidents')).json()) as { items: { id: string }[] }
    expect(list.items.map((i) => i.id).sort()).toEqual([acmeIncident, globexIncident].sort())
    const i = await get(s, globexIncident)
    expect(i).toMatchObject({ id: globexIncident, status: 'triggered', customerIds: ['globex'] })
    expect(i.details).toMatchObject({ failedRuns: 30, finishedRuns: 40 })
    // The admin sees the internal entries too (here: paging is disabled).
    expect((i.timeline as { kind: string }[]).map((t) => t.kind)).toContain('note')
  })

  it('acknowledges a triggered incident once', async () => {
    const { s, globexIncident } = scene
    const res = await s.api('POST', `/v1/incidents/${globexIncident}/acknowledge`)
    expect(res.status).toBe(200)
    expect(await res.json()).toMatchObject({ status: 'acknowledged', acknowledgedAt: expect.any(String) })
    expect((await s.api('POST', `/v1/incidents/${globexIncident}/acknowledge`)).status).toBe(409)
  })

  it('resolves on operator request, notifies customers, and answers 409 when asked again', async () => {
    const { s, acmeIncident, received } = scene
    const res = await s.api('POST', `/v1/incidents/${acmeIncident}/resolve`)
    expect(res.status).toBe(200)
    expect(await res.json()).toMatchObject({ status: 'resolved', resolvedBy: 'operator' })
    await waitFor(async () => received.find((r) => r.body.includes('incident.resolved')), 'resolved notice')
    expect((await s.api('POST', `/v1/incidents/${acmeIncident}/resolve`)).status).toBe(409)
    expect((await s.api('POST', `/v1/incidents/${acmeIncident}/acknowledge`)).status).toBe(409)
  })

  it('keeps root cause and prevention, noting the change on the timeline', async () => {
    const { s, acmeIncident } = scene
    const res = await s.api('PATCH', `/v1/incidents/${acmeIncident}`, { rootCause: 'A bad rollout.' })
    expect(res.status).toBe(200)
    expect(await res.json()).toMatchObject({ rootCause: 'A bad rollout.', prevention: null })
    const i = await get(s, acmeIncident)
    expect((i.timeline as { message: string }[]).map((t) => t.message)).toContain(
      'post-incident fields updated: rootCause',
    )
  })
})

describe('what is refused', () => {
  it('names the bad field in problem+json', async () => {
    const { s, globexIncident } = scene
    const bad = await s.api('PATCH', `/v1/incidents/${globexIncident}`, { rootCause: '' })
    expect(bad.status).toBe(400)
    expect(((await bad.json()) as { errors: { path: string }[] }).errors[0]!.path).toBe('rootCause')
    const id = await s.api('GET', '/v1/incidents/not-an-id')
    expect(id.status).toBe(400)
    expect(((await id.json()) as { errors: { path: string }[] }).errors[0]!.path).toBe('param.id')
  })

  it('answers 404 for an unknown incident', async () => {
    expect((await scene.s.api('GET', '/v1/incidents/inc_00000000-0000-0000-0000-000000000000')).status).toBe(
      404,
    )
  })
})

describe('who is refused', () => {
  it('shows a customer only the incidents that affect it', async () => {
    const { s, tokens, acmeIncident, globexIncident } = scene
    const mine = (await (await s.api('GET', '/v1/incidents', undefined, tokens.acme)).json()) as {
      items: { id: string }[]
    }
    expect(mine.items.map((i) => i.id)).toEqual([acmeIncident])
    const theirs = (await (await s.api('GET', '/v1/incidents', undefined, tokens.globex)).json()) as {
      items: { id: string }[]
    }
    expect(theirs.items.map((i) => i.id)).toEqual([globexIncident])
    expect((await s.api('GET', `/v1/incidents/${globexIncident}`, undefined, tokens.acme)).status).toBe(404)
    expect((await s.api('GET', '/v1/incidents?customerId=globex', undefined, tokens.acme)).status).toBe(403)
  })

  it('gives a customer its view without internal evaluations and pages', async () => {
    const i = await get(scene.s, scene.acmeIncident, scene.tokens.acme)
    expect(i.details).toBeUndefined()
    const kinds = new Set((i.timeline as { kind: string }[]).map((t) => t.kind))
    // Transitions, operators' updates and recovery estimates; never evaluations or pages.
    expect([...kinds].every((k) => k === 'transition' || k === 'update' || k === 'estimate')).toBe(true)
    expect(kinds.has('estimate')).toBe(true)
  })

  it('lets only the admin change an incident', async () => {
    const { s, tokens, acmeIncident } = scene
    for (const [method, path, body] of [
      ['POST', `/v1/incidents/${acmeIncident}/acknowledge`, undefined],
      ['PATCH', `/v1/incidents/${acmeIncident}`, { rootCause: 'x' }],
    ] as const) {
      expect((await s.api(method, path, body, tokens.acme)).status).toBe(403)
    }
    expect((await s.api('GET', '/v1/incidents', undefined, null)).status).toBe(401)
  })
})
