// GET and POST /v1/sla/plans/{customerId}: versioned plans, the version in force for a month;
// refusals of bad plans and unknown customers; only the admin adds a version, a customer reads its own.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { TestSteward } from '../../helpers/app.ts'
import { type Json, json, startSlaSteward } from './steward.ts'

let s: TestSteward
let acmeToken: string

beforeAll(async () => {
  ;({ s, acmeToken } = await startSlaSteward())
  // September is closed under plan v0 before any version is added.
  expect((await s.api('POST', '/v1/sla/close?month=2025-09')).status).toBe(200)
})
afterAll(async () => {
  await s?.stop()
})

describe('what works', () => {
  it('versions plans and applies the version in force for the month', async () => {
    const plan = { monthlyFee: 2000, uptimeTarget: 99.5, tiers: { uptime: [{ below: 99.5, credit: 50 }] } }
    const res = await s.api('POST', '/v1/sla/plans/acme', { plan, effectiveFrom: '2025-08' })
    expect(res.status).toBe(201)
    expect(await json(res)).toMatchObject({ version: 1, effectiveFrom: '2025-08' })
    const versions = await json(await s.api('GET', '/v1/sla/plans/acme', undefined, acmeToken))
    expect(versions.items.map((v: Json) => v.version)).toEqual([1, 0])
    // September is closed: the record keeps plan v0; a dry run shows what v1 would give.
    const dry = await json(await s.api('POST', '/v1/sla/recompute?month=2025-09&customerId=acme'))
    expect(dry.customers[0]).toMatchObject({ plan: { version: 1 }, evaluation: { creditPercent: 0 } })
    const stored = await json(await s.api('GET', '/v1/sla/credits?month=2025-09&customerId=acme'))
    expect(stored.items[0]).toMatchObject({ planVersion: 0, creditCents: 10_000 })
  })
})

describe('what is refused', () => {
  it('refuses a plan with a bad tier', async () => {
    const bad = await s.api('POST', '/v1/sla/plans/acme', {
      plan: { tiers: { uptime: [{ below: 120, credit: 10 }] } },
    })
    expect(bad.status).toBe(400)
    expect((await json(bad)).errors[0].path).toMatch(/^plan\.tiers\.uptime\.0\.below/)
  })

  it('refuses a monthly fee over 10^12 naming plan.monthlyFee, storing no version; the month still closes', async () => {
    const versions = async () => (await json(await s.api('GET', '/v1/sla/plans/globex'))).items.length
    const before = await versions()
    for (const monthlyFee of [1e308, 1_000_000_000_000.01]) {
      const bad = await s.api('POST', '/v1/sla/plans/globex', {
        plan: { monthlyFee },
        effectiveFrom: '2025-09',
      })
      expect(bad.status).toBe(400)
      expect((await json(bad)).errors[0].path).toBe('plan.monthlyFee')
    }
    expect(await versions()).toBe(before)
    // The largest fee is priced exactly: 25% of 10^14 cents.
    const top = { plan: { monthlyFee: 1_000_000_000_000 }, effectiveFrom: '2025-09' }
    expect((await s.api('POST', '/v1/sla/plans/globex', top)).status).toBe(201)
    const dry = await json(await s.api('POST', '/v1/sla/recompute?month=2025-09&customerId=globex'))
    expect(dry.customers[0].evaluation).toMatchObject({
      creditPercent: 25,
      feeCents: 100_000_000_000_000,
      creditCents: 25_000_000_000_000,
    })
  })

  it('answers 404 for an unknown customer', async () => {
    expect((await s.api('POST', '/v1/sla/plans/nobody', { plan: {} })).status).toBe(404)
  })
})

describe('who is refused', () => {
  it("shows a customer token only its own plans, never another customer's", async () => {
    expect((await s.api('GET', '/v1/sla/plans/globex', undefined, acmeToken)).status).toBe(403)
  })

  it('keeps adding a plan version to the admin', async () => {
    expect((await s.api('POST', '/v1/sla/plans/acme', { plan: {} }, acmeToken)).status).toBe(403)
  })
})
