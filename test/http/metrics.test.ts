// /metrics needs no token, so it names no customer: per-customer series (the SLA gauges) are shown
// only to a scraper that presents STEWARD_METRICS_TOKEN, and never when that is unset.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startTestSteward, type TestSteward } from '../helpers/app.ts'

const METRICS_TOKEN = 'metrics-token-0123456789abcdef'
let withToken: TestSteward
let withoutToken: TestSteward

async function started(env: Record<string, string>) {
  const s = await startTestSteward({ env })
  expect((await s.api('POST', '/v1/customers', { id: 'acme-secret', name: 'Acme' })).status).toBe(201)
  expect(await s.deps.scheduler.runNow('sla.refresh')).toMatchObject({ status: 'succeeded' })
  return s
}
const scrape = async (s: TestSteward, token?: string) =>
  (await s.api('GET', '/metrics', undefined, token ?? null)).text()

beforeAll(async () => {
  withToken = await started({ STEWARD_METRICS_TOKEN: METRICS_TOKEN })
  withoutToken = await started({})
})
afterAll(async () => {
  await withToken?.stop()
  await withoutToken?.stop()
})

describe('per-customer series on /metrics', () => {
  it('shows them to a scraper with the metrics token', async () => {
    expect(await scrape(withToken, METRICS_TOKEN)).toMatch(
      /steward_sla_uptime_percent\{customer="acme-secret"\}/,
    )
  })

  it('names no customer to a scraper without it, or with a wrong one, and keeps the rest', async () => {
    for (const token of [undefined, 'wrong-token-0123456789', 'test-admin-token-0123456789']) {
      const text = await scrape(withToken, token)
      expect(text).not.toContain('acme-secret')
      expect(text).toMatch(/steward_sla_uptime_percent\{customer=""\}/)
      expect(text).toContain('steward_http_request_duration_seconds')
    }
  })

  it('never shows them when no metrics token is configured', async () => {
    expect(await scrape(withoutToken)).not.toContain('acme-secret')
    expect(await scrape(withoutToken, 'anything-at-all-0123')).not.toContain('acme-secret')
  })
})
