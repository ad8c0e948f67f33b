// GET /v1/sla/status: a month's figures per customer against the plan, with the DLQ size and the
// credit once closed; the factory for the admin only; refusals of bad input; tenants see their own.
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
  it("gives the admin each customer's figures against the plan, the factory's uptime and the DLQ size", async () => {
    const res = await s.api('GET', '/v1/sla/status?month=2025-09')
    expect(res.status).toBe(200)
    const body = await json(res)
    expect(body).toMatchObject({ month: '2025-09', period: 'complete', dlqSize: 0 })
    expect(body.overall.uptime.downMinutes).toBe(44)
    expect(
      body.customers.map((c: Json) => [
        c.customerId,
        c.uptime.downMinutes,
        c.evaluation.creditPercent,
        c.dlqSize,
        c.credit,
      ]),
    ).toEqual([
      ['acme', 44, 10, 0, null],
      ['globex', 444, 25, 0, null],
    ])
    // No run finished in September: the success rate is insufficient data, which earns nothing.
    expect(body.customers[0].success).toMatchObject({
      finished: 0,
      successRate: null,
      status: 'insufficient_data',
      met: true,
    })
  })

  it('shows the credit of a closed month', async () => {
    expect((await s.api('POST', '/v1/sla/close?month=2025-09')).status).toBe(200)
    const body = await json(await s.api('GET', '/v1/sla/status?month=2025-09&customerId=globex'))
    expect(body.customers[0].credit).toMatchObject({ creditPercent: 25, creditCents: 25_000 })
    expect(Date.parse(body.customers[0].credit.closedAt)).not.toBeNaN()
  })
})

describe('what is refused', () => {
  it.each([
    ['GET', '/v1/sla/status?customerId=a%20b', 'query.customerId'],
    // Months Steward cannot hold: Date.UTC reads year 0 as 1900; ClickHouse DateTime ends in 2106.
    ['GET', '/v1/sla/status?month=0000-01', 'query.month'],
    ['GET', '/v1/sla/status?month=1969-12', 'query.month'],
    ['GET', '/v1/sla/status?month=2106-01', 'query.month'],
    ['POST', '/v1/sla/close?month=9999-12', 'query.month'],
  ])('%s %s → 400 naming %s', async (method, path, field) => {
    const res = await s.api(method, path)
    expect(res.status).toBe(400)
    expect(res.headers.get('content-type')).toMatch(/problem\+json/)
    expect((await json(res)).errors.map((e: Json) => e.path)).toContain(field)
  })

  it('answers 404 for an unknown customer', async () => {
    expect((await s.api('GET', '/v1/sla/status?customerId=nobody')).status).toBe(404)
  })
})

describe('who is refused', () => {
  it('refuses the status without a token', async () => {
    expect((await s.api('GET', '/v1/sla/status', undefined, null)).status).toBe(401)
  })

  it("shows a customer token only its own figures, never another customer's", async () => {
    const status = await json(await s.api('GET', '/v1/sla/status?month=2025-09', undefined, acmeToken))
    expect(status.customers.map((c: Json) => c.customerId)).toEqual(['acme'])
    expect(status.overall).toBeUndefined()
    expect((await s.api('GET', '/v1/sla/status?customerId=globex', undefined, acmeToken)).status).toBe(403)
  })
})
