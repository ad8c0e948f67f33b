// Budgets on real PostgreSQL and chDB (docs/cost.md, "Budgets"): thresholds crossed once each with
// one notice, `pause` holding one customer's new runs while another's go on until the budget is
// raised, an admin's release and re-enforcement, the month turning, `fallback` only where a step
// declares one, and a budget in another currency left unmeasured.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { BudgetsModule } from '../../src/budgets/index.ts'
import { startTestSteward, type TestSteward } from '../helpers/app.ts'
import { until } from '../helpers/until.ts'
import { fastConfig, getRun, type Json, run, step, submit, waitForRun } from '../orchestrator/helpers.ts'
import { insertEvents } from '../sla/golden.ts'

let s: TestSteward
let budgets: BudgetsModule
const tokens: Record<string, string> = {}
// gpt-x: 10 USD per million input tokens, so 1,000 tokens cost 1 cent.
const prices = {
  currency: 'USD',
  pools: [
    { pool: 'default', effectiveFrom: '2020-01-01', perWorkerSecond: 0 },
    { pool: 'idle', effectiveFrom: '2020-01-01', perWorkerSecond: 0 },
  ],
  models: [{ model: 'gpt-x', effectiveFrom: '2020-01-01', inputPerMillion: 10, outputPerMillion: 10 }],
}

beforeAll(async () => {
  s = await startTestSteward({
    file: {
      prices,
      orchestrator: fastConfig({ workers: 1, concurrency: 4, kindPools: { noop: 'idle' } }),
      sla: { plans: { 'b-euro': { currency: 'EUR' } } },
    },
  })
  budgets = s.modules.find((m) => m.name === 'budgets') as BudgetsModule
  for (const id of ['b-notify', 'b-pause', 'b-free', 'b-fallback', 'b-euro']) {
    expect((await s.api('POST', '/v1/customers', { id, name: id })).status).toBe(201)
    tokens[id] = ((await (await s.api('POST', `/v1/customers/${id}/tokens`, {})).json()) as Json).token
  }
})
afterAll(async () => {
  await s?.stop()
})

/** Spends `cents` of AI tokens for `customerId` at `ts` (ClickHouse, as relayed telemetry lands). */
async function spend(customerId: string, cents: number, ts = new Date()) {
  await insertEvents(s.clickhouse.client, [
    {
      type: 'usage',
      customerId,
      projectId: 'p',
      runId: `r-${customerId}`,
      runType: 'build',
      model: 'gpt-x',
      inputTokens: cents * 1000,
      outputTokens: 0,
      ts: ts.toISOString(),
    },
  ])
}

const setBudget = async (id: string, budget: unknown) => {
  const res = await s.api('PATCH', `/v1/customers/${id}`, { settings: { budget } })
  expect(res.status, await res.clone().text()).toBe(200)
}
const status = async (id: string, token?: string): Promise<Json> => {
  const res = await s.api('GET', `/v1/customers/${id}/budget`, undefined, token)
  expect(res.status).toBe(200)
  return res.json()
}
const notices = async (id: string): Promise<Json[]> =>
  (
    await s.postgres.pool.query(
      `SELECT kind, dedup_key, payload FROM customer_notifications WHERE customer_id = $1 ORDER BY id`,
      [id],
    )
  ).rows

describe('thresholds', () => {
  it('are crossed once each, with one notice each, however often the budget is evaluated', async () => {
    await setBudget('b-notify', { aiTokens: 1, total: 2 })
    const now = new Date()
    await spend('b-notify', 60, new Date(now.getTime() - 1000))
    await budgets.evaluate(now)
    await budgets.evaluate(now)
    let st = await status('b-notify')
    expect(st).toMatchObject({ status: 'measured', currency: 'USD', policy: 'notify' })
    const ai = st.metrics.find((m: Json) => m.metric === 'aiTokens')
    expect(ai).toMatchObject({ budgetCents: 100, spentCents: 60, percent: 60 })
    expect(ai.thresholds.map((t: Json) => t.crossedAt !== null)).toEqual([true, false, false])
    expect((await notices('b-notify')).map((n) => n.dedup_key)).toEqual([
      `budget:${st.month}:aiTokens:100:50`,
    ])

    await spend('b-notify', 60, new Date(now.getTime() - 500))
    // Two instances evaluating at once: still one record and one notice per threshold.
    await Promise.all([budgets.evaluate(now), budgets.evaluate(now), budgets.evaluate(now)])
    st = await status('b-notify')
    const sent = await notices('b-notify')
    expect(sent.map((n) => n.dedup_key)).toEqual([
      `budget:${st.month}:aiTokens:100:50`,
      `budget:${st.month}:aiTokens:100:80`,
      `budget:${st.month}:aiTokens:100:100`,
      `budget:${st.month}:total:200:50`,
    ])
    expect(sent.every((n) => n.kind === 'budget.threshold')).toBe(true)
    expect(sent[2].payload).toMatchObject({
      metric: 'aiTokens',
      threshold: 100,
      currency: 'USD',
      budget: '1.00',
      spent: '1.20',
      policy: 'notify',
    })
    // notify acts on nothing.
    expect(st.enforcement).toEqual({ state: 'none', since: null })
    expect(st.actions).toEqual([])
    // Each crossing is a telemetry event too, relayed to ClickHouse once.
    const crossed = await until(
      async () =>
        (
          await (
            await s.clickhouse.client.query({
              query: `SELECT budget_metric AS metric, budget_threshold AS threshold, budget_cents AS budget, spent_cents AS spent
                      FROM events FINAL WHERE type = 'budget' AND customer_id = {c:String} ORDER BY metric, threshold`,
              query_params: { c: 'b-notify' },
              format: 'JSONEachRow',
            })
          ).json<Json>()
        ).map((r: Json) => [r.metric, Number(r.threshold), Number(r.budget), Number(r.spent)]),
      (rows) => rows.length >= 4,
      'relayed: four crossings in ClickHouse',
    )
    expect(crossed).toEqual([
      ['aiTokens', 50, 100, 60],
      ['aiTokens', 80, 100, 120],
      ['aiTokens', 100, 100, 120],
      ['total', 50, 200, 120],
    ])
    // The customer sees its own budget.
    expect((await status('b-notify', tokens['b-notify'])).metrics).toHaveLength(2)
  })
})

describe('pause', () => {
  it("holds one customer's new runs at 100% while another's go on, until its budget is raised", async () => {
    await setBudget('b-pause', { total: 0.5, action: 'pause' })
    const now = new Date()
    await spend('b-pause', 50, new Date(now.getTime() - 1000))
    expect((await budgets.evaluate(now)).failed).toEqual([])
    const st = await status('b-pause')
    expect(st.enforcement.state).toBe('paused')
    expect(st.actions[0]).toMatchObject({ action: 'pause', cause: 'budget reached', actor: 'steward' })

    const held = await submit(s, run([{ key: 'only', kind: 'simulate' }], { customerId: 'b-pause' }))
    const free = await submit(s, run([{ key: 'only', kind: 'simulate' }], { customerId: 'b-free' }))
    expect((await waitForRun(s, free)).status).toBe('succeeded')
    const waiting = await getRun(s, held)
    expect(waiting.status).toBe('queued')
    expect(step(waiting, 'only').waiting).toMatchObject({
      reason: 'paused',
      by: 'budget',
      detail: `budget reached: total cost 0.50 USD of a 0.50 USD budget for ${st.month}`,
    })

    await setBudget('b-pause', { total: 5 })
    await budgets.evaluate(new Date())
    expect((await waitForRun(s, held)).status).toBe('succeeded')
    const after = await status('b-pause')
    expect(after.enforcement.state).toBe('none')
    expect(after.actions[0]).toMatchObject({ action: 'lift', cause: 'budget raised' })
  })

  it('is released by an admin for the rest of the month, and enforced again, each recorded', async () => {
    await setBudget('b-pause', { total: 0.3, action: 'pause' })
    await budgets.evaluate(new Date())
    expect((await status('b-pause')).enforcement.state).toBe('paused')

    const released = await s.api('POST', '/v1/customers/b-pause/budget/actions', {
      action: 'release',
      reason: 'customer called: finish the release today',
    })
    expect(released.status).toBe(200)
    expect(((await released.json()) as Json).enforcement.state).toBe('released')
    await budgets.evaluate(new Date())
    expect((await status('b-pause')).enforcement.state).toBe('released')
    const id = await submit(s, run([{ key: 'only', kind: 'simulate' }], { customerId: 'b-pause' }))
    expect((await waitForRun(s, id)).status).toBe('succeeded')

    const enforced = await s.api('POST', '/v1/customers/b-pause/budget/actions', {
      action: 'enforce',
      reason: 'the release was meant for today only',
    })
    const body = (await enforced.json()) as Json
    expect(body.enforcement.state).toBe('paused')
    expect(body.actions.slice(0, 3).map((a: Json) => [a.action, a.actor, a.reason])).toEqual([
      ['pause', 'steward', expect.stringMatching(/^budget reached: /)],
      ['enforce', 'admin', 'the release was meant for today only'],
      ['release', 'admin', 'customer called: finish the release today'],
    ])
  })

  it('is lifted when the month turns, and recorded in the new month', async () => {
    const next = new Date()
    next.setUTCMonth(next.getUTCMonth() + 1, 1)
    next.setUTCHours(0, 1, 0, 0)
    await budgets.evaluate(next)
    const held = await submit(s, run([{ key: 'only', kind: 'simulate' }], { customerId: 'b-pause' }))
    expect((await waitForRun(s, held)).status).toBe('succeeded')
    const rows = await s.postgres.pool.query(
      `SELECT action, cause, to_char(month, 'YYYY-MM') AS month FROM budget_actions
       WHERE customer_id = 'b-pause' ORDER BY id DESC LIMIT 1`,
    )
    expect(rows.rows[0]).toEqual({
      action: 'lift',
      cause: 'month turned',
      month: next.toISOString().slice(0, 7),
    })
    // Back in this month, the policy acts again on this month's spend.
    await budgets.evaluate(new Date())
    expect((await status('b-pause')).enforcement.state).toBe('paused')
    await setBudget('b-pause', null)
    await budgets.evaluate(new Date())
    expect((await status('b-pause')).actions[0]).toMatchObject({ action: 'lift', cause: 'budget removed' })
  })
})

describe('fallback', () => {
  it('switches only the steps that declare a fallback', async () => {
    await setBudget('b-fallback', { aiTokens: 0.1, action: 'fallback' })
    const now = new Date()
    await spend('b-fallback', 10, new Date(now.getTime() - 1000))
    await budgets.evaluate(now)
    expect((await status('b-fallback')).enforcement.state).toBe('fallback')
    // `noop` runs in pool "idle" (no worker): only its fallback can run.
    const id = await submit(
      s,
      run(
        [
          { key: 'declared', kind: 'noop', fallback: { kind: 'simulate' } },
          { key: 'plain', kind: 'simulate' },
        ],
        { customerId: 'b-fallback' },
      ),
    )
    const r = await waitForRun(s, id)
    expect(r.status).toBe('succeeded')
    expect(step(r, 'declared')).toMatchObject({
      kind: 'simulate',
      usingFallback: true,
      fallbackCause: 'mode',
    })
    expect(step(r, 'plain')).toMatchObject({ kind: 'simulate', usingFallback: false, fallbackCause: null })
  })
})

describe('a budget in another currency', () => {
  it('is unmeasured: nothing is crossed and the policy does not act', async () => {
    await setBudget('b-euro', { total: 0.01, action: 'pause' })
    const now = new Date()
    await spend('b-euro', 500, new Date(now.getTime() - 1000))
    await budgets.evaluate(now)
    const st = await status('b-euro')
    expect(st).toMatchObject({ status: 'unmeasured', currency: 'EUR', metrics: [] })
    expect(st.reason).toContain('no exchange rate')
    expect(st.enforcement.state).toBe('none')
    expect(await notices('b-euro')).toEqual([])
  })
})

describe('who is refused', () => {
  it("hides another customer's budget and keeps the actions to the admin", async () => {
    const other = await s.api('GET', '/v1/customers/b-pause/budget', undefined, tokens['b-notify'])
    expect(other.status).toBe(404)
    const own = await s.api(
      'POST',
      '/v1/customers/b-notify/budget/actions',
      { action: 'release', reason: 'let me spend' },
      tokens['b-notify'],
    )
    expect(own.status).toBe(403)
    expect((await s.api('GET', '/v1/customers/b-pause/budget', undefined, null)).status).toBe(401)
  })

  it('refuses a bad action or budget, naming the field, and changes nothing', async () => {
    const before = (await status('b-notify')).actions
    const bad = await s.api('POST', '/v1/customers/b-notify/budget/actions', { action: 'pause', reason: '' })
    expect(bad.status).toBe(400)
    const problem = (await bad.json()) as Json
    expect(JSON.stringify(problem)).toMatch(/action/)
    expect(JSON.stringify(problem)).toMatch(/reason/)
    const cents = await s.api('PATCH', '/v1/customers/b-notify', { settings: { budget: { total: 1.005 } } })
    expect(cents.status).toBe(422)
    expect(await cents.text()).toMatch(/budget\.total|2 decimals/)
    expect((await status('b-notify')).actions).toEqual(before)
    expect((await s.api('GET', '/v1/customers/nobody/budget')).status).toBe(404)
  })
})
