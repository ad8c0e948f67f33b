// The late-data check: a closed month compared with a recompute; late telemetry that would change
// the credit is reported to operators once (an sla_late_data incident), until the credit is
// corrected; the record itself never changes.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { incidentsConfigSchema } from '../../src/incidents/config.ts'
import { EVALUATE_JOB } from '../../src/incidents/index.ts'
import { SLA_JOBS } from '../../src/sla/index.ts'
import type { TestSteward } from '../helpers/app.ts'
import { insertEvents } from './golden.ts'
import { type Json, json, startSlaSteward } from './routes/steward.ts'

let s: TestSteward
// A tick of the daily check in November 2025: September is within its three months.
const tick = new Date('2025-11-02T04:45:00Z')
const later = (minutes: number) => new Date(tick.getTime() + minutes * 60_000)

/** One run of the scheduled check, at `at` (each minute runs once, like the scheduler). */
const check = async (at = tick) => {
  const outcome = await s.deps.scheduler.runNow(SLA_JOBS.lateDataCheck, at)
  if (outcome.status !== 'succeeded') throw new Error(`the check did not run: ${JSON.stringify(outcome)}`)
  return outcome.detail as Json
}
const evaluate = async (at: Date) =>
  expect((await s.deps.scheduler.runNow(EVALUATE_JOB, at)).status).toBe('succeeded')
const lateIncidents = async () =>
  (
    await s.deps.pool.query(
      `SELECT scope, status, summary FROM incidents WHERE rule = 'sla_late_data' ORDER BY opened_at`,
    )
  ).rows

beforeAll(async () => {
  // Only the rule under test runs (the others would judge the real clock's empty telemetry).
  const off = { enabled: false }
  ;({ s } = await startSlaSteward({
    file: {
      incidents: incidentsConfigSchema.parse({
        resolveAfterMinutes: 5,
        rules: {
          successRate: off,
          uptime: off,
          dlqGrowth: off,
          queueWithoutWorkers: off,
          workerErrorRate: off,
          probeFailures: off,
          telemetryLag: off,
        },
      }),
    },
  }))
  expect((await s.api('POST', '/v1/sla/close?month=2025-09')).status).toBe(200)
})
afterAll(async () => {
  await s?.stop()
})

describe('the late-data check', () => {
  it('finds nothing when a recompute matches what the close issued', async () => {
    expect(await check()).toMatchObject({ months: ['2025-09'], found: [] })
    await evaluate(tick)
    expect(await lateIncidents()).toEqual([])
  })

  it('reports late telemetry that would change a credit, once, as an operator incident', async () => {
    // Ten runs of acme that failed in September reach ClickHouse after the close: 0 of 10 succeeded.
    await insertEvents(
      s.deps.clickhouse!,
      Array.from({ length: 10 }, (_, i) => ({
        type: 'run' as const,
        customerId: 'acme',
        runId: `late-${i}`,
        runType: 'build',
        action: 'failed' as const,
        errorClass: 'agent' as const,
        durationMs: 1000,
        ts: `2025-09-20T10:0${i}:00Z`,
      })),
    )
    const first = await check(later(1))
    expect(first.found).toEqual([
      {
        month: '2025-09',
        customerId: 'acme',
        changes: ['creditPercent', 'creditCents', 'tiers', 'success.finished'],
      },
    ])
    const { rows } = await s.deps.pool.query(
      `SELECT issued_cents::int AS issued, recomputed_cents::int AS recomputed, resolved_at FROM sla_late_data`,
    )
    expect(rows).toEqual([{ issued: 10_000, recomputed: 35_000, resolved_at: null }])
    // The record is as issued.
    const credit = await json(await s.api('GET', '/v1/sla/credits?month=2025-09&customerId=acme'))
    expect(credit.items[0]).toMatchObject({ creditCents: 10_000, netCreditCents: 10_000 })

    // A second check, and more evaluations, report nothing new: one finding, one incident.
    expect((await check(later(2))).found).toEqual([])
    await evaluate(later(2))
    await evaluate(later(3))
    const incidents = await lateIncidents()
    expect(incidents).toHaveLength(1)
    expect(incidents[0]).toMatchObject({ scope: 'sla:late-data:2025-09:acme', status: 'triggered' })
    expect(incidents[0].summary).toContain('100.00 issued, 350.00 on a recompute')
    // No customer hears of it: it is the operator's decision.
    const { rows: notices } = await s.deps.pool.query(
      `SELECT count(*)::int AS n FROM customer_notifications WHERE kind LIKE 'incident.%'`,
    )
    expect(notices[0].n).toBe(0)
  })

  it('closes the finding when the operator corrects the credit, and does not report the same change again', async () => {
    const { rows } = await s.deps.pool.query(`SELECT credit_id FROM sla_late_data`)
    const id = Number(rows[0].credit_id)
    const res = await s.api('POST', `/v1/sla/credits/${id}/adjustments`, {
      kind: 'goodwill',
      amountCents: 25_000,
      reason: 'late run failures: success-rate tier',
    })
    expect(res.status).toBe(201)
    const { rows: after } = await s.deps.pool.query(`SELECT resolved_at, resolution FROM sla_late_data`)
    expect(after[0].resolution).toBe('adjusted: goodwill #1 by admin')
    // The incident resolves once its condition stayed clear; the next checks stay quiet.
    await evaluate(later(10))
    await evaluate(later(20))
    expect((await lateIncidents()).map((i) => i.status)).toEqual(['resolved'])
    expect((await check(later(30))).found).toEqual([])
    await evaluate(later(31))
    expect(await lateIncidents()).toHaveLength(1)
  })
})
