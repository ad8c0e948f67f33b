// /v1/sla over HTTP: status, credit reports in three formats, dry run, close, plans, maintenance,
// billing adjustments; refusals of bad input; tenants see only their own figures.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { reportCommand } from '../../src/sla/cli.ts'
import { slaConfigSchema } from '../../src/sla/config.ts'
import { CSV_COLUMNS } from '../../src/sla/report.ts'
import { ADMIN_TOKEN, startTestSteward, type TestSteward } from '../helpers/app.ts'
import { heartbeats, insertEvents, parseMonth, range } from './golden.ts'

let s: TestSteward
let acmeToken: string
const sept = parseMonth('2025-09')

beforeAll(async () => {
  s = await startTestSteward({
    listen: true,
    file: { sla: slaConfigSchema.parse({ defaultPlan: { monthlyFee: 1000 } }) },
  })
  for (const id of ['acme', 'globex'])
    expect((await s.api('POST', '/v1/customers', { id, name: id })).status).toBe(201)
  await s.deps.pool.query(`UPDATE customers SET created_at = '2025-01-01T00:00:00Z'`)
  acmeToken = ((await (await s.api('POST', '/v1/customers/acme/tokens', {})).json()) as { token: string })
    .token
  // September 2025: 44 down minutes for everyone; globex's own probe fails for 400 more minutes.
  const events = heartbeats(sept, new Set(range(60, 44)))
  for (const m of range(2000, 400)) {
    events.push({
      type: 'probe',
      customerId: 'globex',
      ts: new Date(sept.start.getTime() + m * 60_000 + 1000).toISOString(),
      target: 'globex-api',
      ok: false,
      latencyMs: 9000,
    })
  }
  await insertEvents(s.deps.clickhouse!, events)
})
afterAll(async () => {
  await s?.stop()
})

// biome-ignore lint/suspicious/noExplicitAny: response bodies are read loosely; their shape is what is asserted
type Json = any
const json = async (res: Response) => (await res.json()) as Json

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

  it('reports provisional figures before the close and the closed records after it', async () => {
    const before = await json(await s.api('GET', '/v1/sla/credits?month=2025-09'))
    expect(before.items.map((i: Json) => i.status)).toEqual(['provisional', 'provisional'])
    const closed = await json(await s.api('POST', '/v1/sla/close?month=2025-09'))
    expect(closed).toEqual({ month: '2025-09', computed: 2, issued: 2 })
    const after = await json(await s.api('GET', '/v1/sla/credits?month=2025-09'))
    expect(after.items.map((i: Json) => [i.customerId, i.status, i.creditPercent, i.creditCents])).toEqual([
      ['acme', 'closed', 10, 10_000],
      ['globex', 'closed', 25, 25_000],
    ])
    expect(after.items[0].figures.uptime.downtimePeriods).toEqual([
      { start: '2025-09-01T01:00:00.000Z', end: '2025-09-01T01:44:00.000Z', minutes: 44 },
    ])
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

  it('exports CSV with one row per customer under the documented columns', async () => {
    const res = await s.api('GET', '/v1/sla/credits?month=2025-09&format=csv')
    expect(res.headers.get('content-type')).toMatch(/^text\/csv/)
    const lines = (await res.text()).trim().split('\r\n')
    expect(lines[0]!.split(',')).toEqual([...CSV_COLUMNS])
    const rows = lines
      .slice(1)
      .map((l) => Object.fromEntries(l.split(',').map((v, i) => [CSV_COLUMNS[i], v])))
    expect(
      rows.map((r) => [r.customer_id, r.uptime_percent, r.down_minutes, r.credit_percent, r.credit_amount]),
    ).toEqual([
      ['acme', '99.8981', '44', '10', '100.00'],
      ['globex', '98.9722', '444', '25', '250.00'],
    ])
  })

  it('renders a printable HTML page with each metric, the tier, the amount and a daily SVG chart', async () => {
    const res = await s.api('GET', '/v1/sla/credits?month=2025-09&format=html')
    expect(res.headers.get('content-type')).toMatch(/^text\/html/)
    const html = await res.text()
    expect(html).toContain('<h2>acme — 2025-09')
    expect(html).toContain('99.8981% (44 of 43200 min down)')
    expect(html).toContain('10% (below 99.9%)')
    expect(html).toContain('data-credit-amount="250.00"')
    expect(html.match(/<svg /g)).toHaveLength(2)
    // one bar per day of September in each chart
    expect(html.match(/<rect /g)).toHaveLength(60)
  })

  it('lists the billing adjustments of the next cycle', async () => {
    const body = await json(await s.api('GET', '/v1/sla/billing-adjustments?cycle=2025-10'))
    expect(body.items.map((a: Json) => [a.customerId, a.amount])).toEqual([
      ['acme', '-100.00'],
      ['globex', '-250.00'],
    ])
  })

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

  it('takes maintenance windows through the API and excludes them', async () => {
    const res = await s.api('POST', '/v1/sla/maintenance', {
      start: '2025-08-01T00:00:00Z',
      end: '2025-08-01T01:00:00Z',
      reason: 'planned failover drill',
    })
    expect(res.status).toBe(201)
    const status = await json(await s.api('GET', '/v1/sla/status?month=2025-08&customerId=acme'))
    expect(status.customers[0].uptime).toMatchObject({ maintenanceMinutes: 60, eligibleMinutes: 44_580 })
    const list = await json(await s.api('GET', '/v1/sla/maintenance?month=2025-08', undefined, acmeToken))
    expect(list.items).toHaveLength(1)
  })

  it('writes the report from the CLI through the running serve', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'sla-cli-')), 'credits.csv')
    await reportCommand(
      ['sla-credits', '--month', '2025-09', '--customer', 'globex', '--format', 'csv', '--out', out],
      {
        ...s.deps.config,
        stewardUrl: s.url,
        adminToken: ADMIN_TOKEN,
      },
    )
    const lines = readFileSync(out, 'utf8').trim().split('\r\n')
    rmSync(join(out, '..'), { recursive: true, force: true })
    expect(lines).toHaveLength(2)
    expect(lines[1]).toMatch(/^globex,2025-09,closed,0,98\.9722,/)
  })
})

describe('the API document', () => {
  it('lists every SLA route in /openapi.json', async () => {
    const doc = await json(await s.api('GET', '/openapi.json', undefined, null))
    const paths = Object.keys(doc.paths).filter((p) => p.includes('/sla/'))
    expect(paths.sort()).toEqual([
      '/v1/sla/billing-adjustments',
      '/v1/sla/close',
      '/v1/sla/credits',
      '/v1/sla/maintenance',
      '/v1/sla/plans/{customerId}',
      '/v1/sla/recompute',
      '/v1/sla/status',
    ])
  })
})

describe('scheduled jobs', () => {
  it('registers the refresh and the monthly close with their cron expressions', () => {
    const jobs = Object.fromEntries(s.deps.scheduler.jobs().map((j) => [j.name, j.cron]))
    expect(jobs).toMatchObject({ 'sla.refresh': '*/5 * * * *', 'sla.monthly-close': '15 * 1 * *' })
  })

  it('refreshes month-to-date figures into sla_monthly and takes an RPO sample', async () => {
    const outcome = await s.deps.scheduler.runNow('sla.refresh')
    expect(outcome).toMatchObject({ status: 'succeeded', detail: { customers: 2 } })
    const { rows } = await s.deps.pool.query(`SELECT source FROM sla_rpo_samples`)
    expect(rows.map((r) => r.source)).toContain('telemetry')
    const month = new Date().toISOString().slice(0, 7)
    const ch = await s.deps.clickhouse!.query({
      query: `SELECT count() AS n FROM sla_monthly WHERE month = toDate({m:String}) AND metric = 'uptime'`,
      query_params: { m: `${month}-01` },
      format: 'JSONEachRow',
    })
    expect(((await ch.json()) as { n: number }[])[0]!.n).toBeGreaterThanOrEqual(2)
    const metrics = await (await s.api('GET', '/metrics', undefined, null)).text()
    expect(metrics).toMatch(/steward_sla_rpo_seconds\{source="telemetry"\}/)
  })
})

describe('what is refused', () => {
  it.each([
    ['GET', '/v1/sla/credits?month=2025-13', 'query.month'],
    ['GET', '/v1/sla/credits', 'query.month'],
    ['GET', '/v1/sla/credits?month=2025-09&format=pdf', 'query.format'],
    ['POST', '/v1/sla/recompute?month=25-09', 'query.month'],
    ['GET', '/v1/sla/status?customerId=a%20b', 'query.customerId'],
  ])('%s %s → 400 naming %s', async (method, path, field) => {
    const res = await s.api(method, path)
    expect(res.status).toBe(400)
    expect(res.headers.get('content-type')).toMatch(/problem\+json/)
    expect((await json(res)).errors.map((e: Json) => e.path)).toContain(field)
  })

  it('refuses a maintenance window that ends before it starts, and stores nothing', async () => {
    const res = await s.api('POST', '/v1/sla/maintenance', {
      start: '2025-10-02T00:00:00Z',
      end: '2025-10-01T00:00:00Z',
      reason: 'x',
    })
    expect(res.status).toBe(400)
    expect((await json(res)).errors.map((e: Json) => e.path)).toContain('end')
    const { rows } = await s.deps.pool.query(
      `SELECT count(*)::int AS n FROM sla_maintenance_windows WHERE starts_at >= '2025-10-01'`,
    )
    expect(rows[0].n).toBe(0)
  })

  it('refuses a plan with a bad tier and closing a month that has not ended', async () => {
    const bad = await s.api('POST', '/v1/sla/plans/acme', {
      plan: { tiers: { uptime: [{ below: 120, credit: 10 }] } },
    })
    expect(bad.status).toBe(400)
    expect((await json(bad)).errors[0].path).toMatch(/^plan\.tiers\.uptime\.0\.below/)
    const future = new Date(Date.now() + 40 * 86_400_000).toISOString().slice(0, 7)
    expect((await s.api('POST', `/v1/sla/close?month=${future}`)).status).toBe(409)
  })

  it('answers 404 for an unknown customer', async () => {
    expect((await s.api('GET', '/v1/sla/status?customerId=nobody')).status).toBe(404)
    expect((await s.api('POST', '/v1/sla/plans/nobody', { plan: {} })).status).toBe(404)
  })
})

describe('who is refused', () => {
  it('refuses every SLA route without a token', async () => {
    expect((await s.api('GET', '/v1/sla/status', undefined, null)).status).toBe(401)
    expect((await s.api('GET', '/v1/sla/credits?month=2025-09', undefined, null)).status).toBe(401)
  })

  it("shows a customer token only its own figures, never another customer's", async () => {
    const mine = await json(await s.api('GET', '/v1/sla/credits?month=2025-09', undefined, acmeToken))
    expect(mine.items.map((i: Json) => i.customerId)).toEqual(['acme'])
    const csv = await (
      await s.api('GET', '/v1/sla/credits?month=2025-09&format=csv', undefined, acmeToken)
    ).text()
    expect(csv).not.toContain('globex')
    const status = await json(await s.api('GET', '/v1/sla/status?month=2025-09', undefined, acmeToken))
    expect(status.customers.map((c: Json) => c.customerId)).toEqual(['acme'])
    expect(status.overall).toBeUndefined()
    expect((await s.api('GET', '/v1/sla/status?customerId=globex', undefined, acmeToken)).status).toBe(403)
    expect(
      (await s.api('GET', '/v1/sla/credits?month=2025-09&customerId=globex', undefined, acmeToken)).status,
    ).toBe(403)
    expect(
      (
        await s.api(
          'GET',
          '/v1/sla/billing-adjustments?cycle=2025-10&customerId=globex',
          undefined,
          acmeToken,
        )
      ).status,
    ).toBe(403)
    expect((await s.api('GET', '/v1/sla/plans/globex', undefined, acmeToken)).status).toBe(403)
  })

  it('keeps recompute, close, plans and maintenance changes to the admin', async () => {
    expect((await s.api('POST', '/v1/sla/recompute?month=2025-09', undefined, acmeToken)).status).toBe(403)
    expect((await s.api('POST', '/v1/sla/close?month=2025-09', undefined, acmeToken)).status).toBe(403)
    expect((await s.api('POST', '/v1/sla/plans/acme', { plan: {} }, acmeToken)).status).toBe(403)
    const w = { start: '2025-10-01T00:00:00Z', end: '2025-10-01T01:00:00Z', reason: 'x' }
    expect((await s.api('POST', '/v1/sla/maintenance', w, acmeToken)).status).toBe(403)
  })
})
