// What a signed-in customer sees, over HTTP (no browser): its figures are exactly GET
// /v1/sla/status's for it; its incidents with every visible update and the recovery estimate; its
// runs with their failures; its credit history with each month's report and adjustment. Another
// customer's id, name, runs, incidents and figures appear nowhere: not on the page, not in the
// refresh JSON, not in the reports.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { BudgetsModule } from '../../src/budgets/index.ts'
import { startTestSteward, type TestSteward } from '../helpers/app.ts'
import { PORTAL_CONFIG, type PortalScene, seedPortalScene } from '../helpers/portal-scene.ts'
import { portal, signIn } from './support.ts'

// biome-ignore lint/suspicious/noExplicitAny: test views of JSON bodies
type Json = any

let s: TestSteward
let scene: PortalScene
const cookies: string[] = []

async function apiStatus(token: string): Promise<Json> {
  const res = await s.api('GET', '/v1/sla/status', undefined, token)
  expect(res.status).toBe(200)
  return ((await res.json()) as Json).customers[0]
}

async function refresh(cookie: string): Promise<Json> {
  const { res, text } = await portal(s, 'GET', '/portal/api/dashboard', { cookie })
  expect(res.status).toBe(200)
  return JSON.parse(text)
}

/** Everything the portal serves one customer, as text. */
async function everything(cookie: string): Promise<string> {
  const paths = [
    '/portal',
    '/portal/api/dashboard',
    `/portal/credits/${scene.previousMonth}.html`,
    `/portal/credits/${scene.previousMonth}.csv`,
    `/portal/credits/${new Date().toISOString().slice(0, 7)}.html`,
    `/portal/credits/${new Date().toISOString().slice(0, 7)}.csv`,
  ]
  const texts = []
  for (const p of paths) {
    const { res, text } = await portal(s, 'GET', p, { cookie })
    expect(res.status, p).toBe(200)
    texts.push(text)
  }
  return texts.join('\n')
}

beforeAll(async () => {
  s = await startTestSteward({ file: PORTAL_CONFIG })
  scene = await seedPortalScene(s)
  for (const c of scene.customers) cookies.push(await signIn(s, c.token))
})
afterAll(async () => {
  await s?.stop()
})

describe('what a customer sees', () => {
  it('shows exactly the figures GET /v1/sla/status gives it', async () => {
    for (const [i, c] of scene.customers.entries()) {
      // Telemetry keeps arriving (the runs' own events): compare two reads that agree.
      await expect
        .poll(
          async () => {
            const [portalView, api] = [await refresh(cookies[i]!), await apiStatus(c.token)]
            const v = portalView.view.sla.value
            return {
              same:
                v.uptime.percent === api.uptime.percent &&
                v.uptime.downMinutes === api.uptime.downMinutes &&
                v.successRate.percent === api.success.successRate &&
                v.successRate.finished === api.success.finished &&
                v.credit.creditCents === api.evaluation.creditCents &&
                JSON.stringify(v.executionTime.map((e: Json) => e.compliancePercent)) ===
                  JSON.stringify(api.executionTime.map((e: Json) => e.compliancePercent)),
              page: v,
              api,
            }
          },
          { timeout: 20_000, interval: 500 },
        )
        .toMatchObject({ same: true })
    }
    // The page shows the figures the refresh carries.
    const view = (await refresh(cookies[0]!)).view.sla.value
    const page = await portal(s, 'GET', '/portal', { cookie: cookies[0] })
    expect(page.text).toContain(`data-field="uptime">${view.uptime.percent}%<`)
    expect(page.text).toContain(`data-field="success-rate">${view.successRate.percent}%<`)
  })

  it('gives the two customers different figures (the isolation checks below are not vacuous)', async () => {
    const [a, b] = [await apiStatus(scene.customers[0].token), await apiStatus(scene.customers[1].token)]
    expect(a.uptime.percent).not.toBe(b.uptime.percent)
    expect(a.success.successRate).not.toBe(b.success.successRate)
  })

  it('shows the error budget left, its burn-down and the provisional credit', async () => {
    const v = (await refresh(cookies[0]!)).view.sla.value
    const api = await apiStatus(scene.customers[0].token)
    // 50 minutes down this month against a 99.9% target: over budget for a month of 28-31 days.
    expect(v.budget.uptime.spentMinutes).toBe(api.uptime.downMinutes)
    expect(v.budget.uptime.remainingMinutes).toBeCloseTo(
      v.budget.uptime.budgetMinutes - api.uptime.downMinutes,
      3,
    )
    expect(v.budget.uptime.days).toHaveLength(api.uptime.daily.length)
    expect(v.credit.state).toBe('provisional')
    expect(v.credit.creditPercent).toBe(api.evaluation.creditPercent)
    const page = await portal(s, 'GET', '/portal', { cookie: cookies[0] })
    expect(page.text).toMatch(
      /<svg [^>]*role="img" aria-labelledby="burn-title burn-desc" data-chart="burndown">/,
    )
    expect(page.text).toContain('data-line="ideal"')
    expect(page.text).toContain(`data-credit-state="provisional"`)
  })

  it('lists the incidents affecting it with every visible update and the recovery estimate', async () => {
    const v = (await refresh(cookies[0]!)).view
    const ids = v.incidents.value.map((i: Json) => i.id)
    expect(ids).toEqual(expect.arrayContaining([scene.platformIncidentId, scene.customers[0].incidentId]))
    expect(ids).not.toContain(scene.customers[1].incidentId)
    const platform = v.incidents.value.find((i: Json) => i.id === scene.platformIncidentId)
    expect(platform.estimateSource).toBe('operator')
    expect(platform.timeline.map((t: Json) => t.kind)).toEqual([
      'transition',
      'estimate',
      'estimate',
      'update',
    ])
    const page = await portal(s, 'GET', '/portal', { cookie: cookies[0] })
    expect(page.text).toContain(`data-incident="${scene.platformIncidentId}"`)
    expect(page.text).toMatch(/Estimated recovery: <time datetime="[^"]+">/)
  })

  it('lists its recent runs with their failures, and a resume form for the failed one only', async () => {
    const c = scene.customers[0]
    const page = await portal(s, 'GET', '/portal', { cookie: cookies[0] })
    expect(page.text).toContain(`data-run="${c.failedRunId}"`)
    expect(page.text).toContain(`data-run="${c.waitingRunId}"`)
    expect(page.text).toContain('simulated validation failure on attempt 1')
    expect(page.text).toContain(`action="/portal/runs/${c.failedRunId}/resume"`)
    expect(page.text).not.toContain(`action="/portal/runs/${c.waitingRunId}/resume"`)
  })

  it('lists its closed months with the credit, the bill adjustment and the month’s report', async () => {
    const v = (await refresh(cookies[0]!)).view
    const month = v.credits.value.find((m: Json) => m.month === scene.previousMonth)
    // 90 minutes down last month: below 99.9 %, 10 % of a 1,000 USD fee.
    expect(month).toMatchObject({ creditPercent: 10, creditCents: 10_000, currency: 'USD' })
    expect(month.adjustments).toEqual([
      expect.objectContaining({ amountCents: -10_000, customerId: 'initech' }),
    ])
    const csv = await portal(s, 'GET', `/portal/credits/${scene.previousMonth}.csv`, { cookie: cookies[0] })
    expect(csv.res.headers.get('content-type')).toMatch(/^text\/csv/)
    const lines = csv.text.trim().split('\r\n')
    expect(lines).toHaveLength(2)
    expect(lines[1]).toMatch(new RegExp(`^initech,${scene.previousMonth},closed,`))
    const html = await portal(s, 'GET', `/portal/credits/${scene.previousMonth}.html`, { cookie: cookies[0] })
    expect(html.res.headers.get('content-security-policy')).toMatch(/default-src 'none'/)
    expect(html.text).toContain('data-credit-amount="100.00"')
  })

  it('shows its spending against its budgets, and says when the budget holds its new runs', async () => {
    const budgets = s.modules.find((m) => m.name === 'budgets') as BudgetsModule
    const [initech, globex] = scene.customers
    // A budget of 0 is reached at once: the pause policy holds initech's new runs.
    const set = await s.api('PATCH', `/v1/customers/${initech.id}`, {
      settings: { budget: { total: 0, aiTokens: 1000, action: 'pause' } },
    })
    expect(set.status).toBe(200)
    try {
      await budgets.evaluate()
      const v = (await refresh(cookies[0]!)).view.spending.value
      const api = (await (
        await s.api('GET', `/v1/customers/${initech.id}/budget`, undefined, initech.token)
      ).json()) as Json
      expect(v.metrics).toEqual(api.metrics)
      expect(v.enforcement.state).toBe('paused')
      const page = await portal(s, 'GET', '/portal', { cookie: cookies[0] })
      expect(page.text).toContain('data-budget-state="paused"')
      expect(page.text).toContain('data-field="budget-aiTokens"')
      expect(page.text).toContain('New runs are paused')
      // The other customer has no budget, and sees nothing of initech's.
      const theirs = await portal(s, 'GET', '/portal', { cookie: cookies[1] })
      expect(theirs.text).toContain('No monthly budget is set')
      expect(theirs.text).not.toContain('data-budget-state')
      expect((await refresh(cookies[1]!)).view.spending.value.customerId).toBe(globex.id)
    } finally {
      await s.api('PATCH', `/v1/customers/${initech.id}`, { settings: { budget: null } })
      await budgets.evaluate()
    }
    expect((await refresh(cookies[0]!)).view.spending.value.enforcement.state).toBe('none')
  })
})

describe('what a customer never sees', () => {
  it('shows nothing of the other customer anywhere the portal serves', async () => {
    for (const [i, me] of scene.customers.entries()) {
      const other = scene.customers[1 - i]!
      const api = await apiStatus(other.token)
      const text = (await everything(cookies[i]!)).toLowerCase()
      expect(text).toContain(me.id)
      for (const secret of [
        other.id,
        other.name,
        other.failedRunId,
        other.waitingRunId,
        other.incidentId,
        `${api.uptime.percent}%`,
        `${api.success.successRate}%`,
      ])
        expect(text, `${me.id} sees ${secret}`).not.toContain(secret.toLowerCase())
    }
  })

  it('says "a customer" where an operator named another customer', async () => {
    const v = (await refresh(cookies[1]!)).view
    const update = v.incidents.value
      .find((i: Json) => i.id === scene.platformIncidentId)
      .timeline.find((t: Json) => t.kind === 'update')
    expect(update.message).toBe('Failover is under way; a customer (a customer) sees the most errors.')
  })

  it('answers a month that has not begun, and an unknown portal path, with 404', async () => {
    const next = new Date()
    next.setUTCMonth(next.getUTCMonth() + 2)
    const month = next.toISOString().slice(0, 7)
    expect((await portal(s, 'GET', `/portal/credits/${month}.html`, { cookie: cookies[0] })).res.status).toBe(
      404,
    )
    expect((await portal(s, 'GET', '/portal/credits/2026-13.csv', { cookie: cookies[0] })).res.status).toBe(
      404,
    )
    expect((await portal(s, 'GET', '/portal/admin', { cookie: cookies[0] })).res.status).toBe(404)
  })

  it('sends a request without a session for a report to the sign-in form', async () => {
    const res = await portal(s, 'GET', `/portal/credits/${scene.previousMonth}.csv`)
    expect(res.res.status).toBe(303)
    expect(res.text).not.toContain('initech')
  })
})
