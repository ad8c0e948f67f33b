// The sla module as `serve` composes it: its scheduled jobs (the month-to-date refresh with its RPO
// sample, the monthly close) and its routes in /openapi.json.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { TestSteward } from '../helpers/app.ts'
import { json, startSlaSteward } from './routes/steward.ts'

let s: TestSteward

beforeAll(async () => {
  ;({ s } = await startSlaSteward())
})
afterAll(async () => {
  await s?.stop()
})

describe('the API document', () => {
  it('lists every SLA route in /openapi.json', async () => {
    const doc = await json(await s.api('GET', '/openapi.json', undefined, null))
    const paths = Object.keys(doc.paths).filter((p) => p.includes('/sla/'))
    expect(paths.sort()).toEqual([
      '/v1/sla/audit',
      '/v1/sla/billing-adjustments',
      '/v1/sla/close',
      '/v1/sla/credits',
      '/v1/sla/credits/{id}/adjustments',
      '/v1/sla/maintenance',
      '/v1/sla/maintenance/{id}',
      '/v1/sla/months/{month}/release',
      '/v1/sla/plans/{customerId}',
      '/v1/sla/recompute',
      '/v1/sla/status',
    ])
  })
})

describe('scheduled jobs', () => {
  it('registers the refresh and the monthly close with their cron expressions', () => {
    const jobs = Object.fromEntries(s.deps.scheduler.jobs().map((j) => [j.name, j.cron]))
    // The close runs hourly (not only on the 1st): a deferred or held month closes on the first run
    // after it clears, whatever the day.
    expect(jobs).toMatchObject({ 'sla.refresh': '*/5 * * * *', 'sla.monthly-close': '15 * * * *' })
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
