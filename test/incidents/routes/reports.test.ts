// GET /v1/incidents/{id}/report: what works (JSON and Markdown, figures from ClickHouse, served from
// PostgreSQL alone when ClickHouse cannot be read), who is refused (another customer's incident).
import { createClient } from '@clickhouse/client'
import { describe, expect, it } from 'vitest'
import { buildReport, renderMarkdown } from '../../../src/incidents/report.ts'
import { getIncident } from '../../../src/incidents/store.ts'
import { useIncidentScene } from './steward.ts'

// The report of a resolved incident: the operator resolves acme's.
const scene = useIncidentScene(async ({ s, acmeIncident }) => {
  expect((await s.api('POST', `/v1/incidents/${acmeIncident}/resolve`)).status).toBe(200)
})

describe('what works', () => {
  it('keeps root cause and prevention and reports the incident in JSON and Markdown', async () => {
    const { s, acmeIncident } = scene
    const patch = await s.api('PATCH', `/v1/incidents/${acmeIncident}`, {
      rootCause: 'A bad model rollout failed half the runs.',
      prevention: 'Canary model rollouts.',
    })
    expect(patch.status).toBe(200)
    const report = (await (await s.api('GET', `/v1/incidents/${acmeIncident}/report`)).json()) as Record<
      string,
      unknown
    >
    expect(report).toMatchObject({
      rootCause: 'A bad model rollout failed half the runs.',
      prevention: 'Canary model rollouts.',
    })
    expect(report.affectedCustomers).toEqual([
      expect.objectContaining({ customerId: 'acme', failedRuns: 20, finishedRuns: 40 }),
    ])
    expect(report.affectedRuns).toBe(20)
    expect(report.recoverySeconds).toBeGreaterThanOrEqual(0)
    // Detection runs from the first failed run (the failures were spread over ~2 min before t0).
    expect(report.detectionSeconds).toBeGreaterThan(100)
    expect(report.detectionSeconds).toBeLessThan(130)
    // 20 failed runs against a 30-day budget of 40 × 1% = 0.4 runs: 50 times the budget.
    expect(
      (report.affectedCustomers as { successBudgetConsumed: number }[])[0]!.successBudgetConsumed,
    ).toBeCloseTo(50, 5)
    const md = await s.api('GET', `/v1/incidents/${acmeIncident}/report?format=markdown`)
    expect(md.headers.get('content-type')).toMatch(/text\/markdown/)
    const text = await md.text()
    expect(text).toContain(`# Incident ${acmeIncident}`)
    expect(text).toContain('Canary model rollouts.')
    expect(text).toMatch(/\| acme \| 20 \| 40 \|/)
  })

  it('still reports from PostgreSQL when ClickHouse cannot be read, saying what is missing', async () => {
    const { s, acmeIncident } = scene
    const unreachable = createClient({ url: 'http://127.0.0.1:9', request_timeout: 2000 })
    const incident = (await getIncident(s.deps.pool, acmeIncident))!
    const report = await buildReport(incident, [], unreachable, s.deps.config.incidents.rules)
    await unreachable.close()
    expect(report.telemetryError).toMatch(/telemetry unavailable/)
    expect(report.rootCause).toBe('A bad model rollout failed half the runs.')
    expect(renderMarkdown(report)).toContain('Impact figures missing')
  })

  it('gives a customer the report of its incident in its own view', async () => {
    const { s, tokens, acmeIncident } = scene
    const res = await s.api('GET', `/v1/incidents/${acmeIncident}/report`, undefined, tokens.acme)
    expect(res.status).toBe(200)
    const report = (await res.json()) as {
      incident: Record<string, unknown>
      timeline: { kind: string; detail: object }[]
      affectedCustomers: { customerId: string }[]
    }
    expect(report.incident).toMatchObject({ id: acmeIncident, customerIds: ['acme'] })
    expect(report.incident.details).toBeUndefined()
    expect(report.affectedCustomers.map((c) => c.customerId)).toEqual(['acme'])
    expect(report.timeline.every((t) => ['transition', 'update', 'estimate'].includes(t.kind))).toBe(true)
    expect(report.timeline.every((t) => Object.keys(t.detail).length === 0)).toBe(true)
  })
})

describe('who is refused', () => {
  it("answers 404 for another customer's incident", async () => {
    const { s, tokens, globexIncident } = scene
    expect(
      (await s.api('GET', `/v1/incidents/${globexIncident}/report`, undefined, tokens.acme)).status,
    ).toBe(404)
  })
})
