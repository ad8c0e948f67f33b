// POST and DELETE /v1/incident-silences: what works (a window created and ended), what is refused
// (a window that ends before it starts, an unknown silence), who is refused (customer tokens).
// What a silence does to paging: test/incidents/paging.test.ts.
import { describe, expect, it } from 'vitest'
import { minutes } from '../support.ts'
import { useIncidentScene } from './steward.ts'

const scene = useIncidentScene()

describe('what works', () => {
  it('creates a maintenance window and ends it now', async () => {
    const { s } = scene
    const endsAt = minutes(new Date(), 60).toISOString()
    const res = await s.api('POST', '/v1/incident-silences', {
      rule: 'success_rate_burn',
      endsAt,
      reason: 'planned database upgrade',
    })
    expect(res.status).toBe(201)
    const silence = (await res.json()) as { id: number; endsAt: string }
    expect(silence).toMatchObject({
      rule: 'success_rate_burn',
      scope: null,
      reason: 'planned database upgrade',
    })
    expect(Date.parse(silence.endsAt)).toBe(Date.parse(endsAt))
    expect((await s.api('DELETE', `/v1/incident-silences/${silence.id}`)).status).toBe(204)
  })
})

describe('what is refused', () => {
  it('names the bad field in problem+json', async () => {
    const silence = await scene.s.api('POST', '/v1/incident-silences', {
      endsAt: minutes(scene.t0, -1).toISOString(),
      reason: 'x',
    })
    expect(silence.status).toBe(400)
    expect(((await silence.json()) as { errors: { path: string }[] }).errors.map((e) => e.path)).toContain(
      'endsAt',
    )
  })

  it('answers 404 for an unknown silence', async () => {
    expect((await scene.s.api('DELETE', '/v1/incident-silences/999999')).status).toBe(404)
  })
})

describe('who is refused', () => {
  it('lets only the admin create a silence', async () => {
    const { s, tokens } = scene
    const body = { endsAt: minutes(new Date(), 10).toISOString(), reason: 'x' }
    expect((await s.api('POST', '/v1/incident-silences', body, tokens.acme)).status).toBe(403)
  })
})
