// POST /v1/sla/recompute (the dry run) and POST /v1/sla/close: what a close would issue, the close
// itself, a dry run that reproduces the closed inputs; refusals; both are the admin's only.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { TestSteward } from '../../helpers/app.ts'
import { type Json, json, startSlaSteward } from './steward.ts'

let s: TestSteward
let acmeToken: string

beforeAll(async () => {
  ;({ s, acmeToken } = await startSlaSteward())
})
afterAll(async () => {
  await s?.stop()
})

describe('what works', () => {
  it('answers a dry run with the figures and credits, and writes nothing', async () => {
    const res = await s.api('POST', '/v1/sla/recompute?month=2025-09')
    expect(res.status).toBe(200)
    const body = await json(res)
    expect(body.dryRun).toBe(true)
    expect(
      body.customers.map((c: Json) => [c.customerId, c.uptime.downMinutes, c.evaluation.creditPercent]),
    ).toEqual([
      ['acme', 44, 10],
      ['globex', 444, 25],
    ])
    const { rows } = await s.deps.pool.query('SELECT count(*)::int AS n FROM sla_credits')
    expect(rows[0].n).toBe(0)
  })

  it('closes a past month once: a second close issues nothing', async () => {
    const first = await s.api('POST', '/v1/sla/close?month=2025-09')
    expect(first.status).toBe(200)
    expect(await json(first)).toEqual({
      month: '2025-09',
      status: 'closed',
      computed: 2,
      issued: 2,
      reason: null,
      hold: null,
    })
    expect(await json(await s.api('POST', '/v1/sla/close?month=2025-09'))).toMatchObject({
      month: '2025-09',
      status: 'closed',
      computed: 0,
      issued: 0,
    })
  })

  it('gives a dry run that reproduces the closed inputs exactly', async () => {
    const body = await json(await s.api('POST', '/v1/sla/recompute?month=2025-09&customerId=acme'))
    expect(body.customers[0].issued).toMatchObject({ creditCents: 10_000 })
    const stored = await json(await s.api('GET', '/v1/sla/credits?month=2025-09&customerId=acme'))
    const { computedAt: _a, ...recomputed } = body.customers[0]
    const { computedAt: _b, ...closed } = stored.items[0].figures
    delete recomputed.issued
    expect(recomputed).toEqual(closed)
  })
})

describe('what is refused', () => {
  it.each([['POST', '/v1/sla/recompute?month=25-09', 'query.month']])(
    '%s %s → 400 naming %s',
    async (method, path, field) => {
      const res = await s.api(method, path)
      expect(res.status).toBe(400)
      expect(res.headers.get('content-type')).toMatch(/problem\+json/)
      expect((await json(res)).errors.map((e: Json) => e.path)).toContain(field)
    },
  )

  it('refuses closing a month that has not ended', async () => {
    const future = new Date(Date.now() + 40 * 86_400_000).toISOString().slice(0, 7)
    expect((await s.api('POST', `/v1/sla/close?month=${future}`)).status).toBe(409)
  })
})

describe('who is refused', () => {
  it('keeps recompute and close to the admin', async () => {
    expect((await s.api('POST', '/v1/sla/recompute?month=2025-09', undefined, acmeToken)).status).toBe(403)
    expect((await s.api('POST', '/v1/sla/close?month=2025-09', undefined, acmeToken)).status).toBe(403)
  })
})
