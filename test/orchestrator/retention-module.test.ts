// Retention in a whole Steward: the hourly job is scheduled, takes the SLA engine's closed months
// from the composition root, and the history tables' sizes are on /metrics.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { RETENTION_JOB } from '../../src/orchestrator/index.ts'
import { startTestSteward, type TestSteward } from '../helpers/app.ts'

let s: TestSteward
beforeAll(async () => {
  s = await startTestSteward({})
})
afterAll(async () => {
  await s?.stop()
})

describe('retention in serve', () => {
  it('is a scheduled job that deletes nothing while no SLA month is closed', async () => {
    expect(s.deps.scheduler.jobs().map((j) => j.name)).toContain(RETENTION_JOB)
    expect(await s.deps.scheduler.runNow(RETENTION_JOB)).toMatchObject({
      status: 'succeeded',
      detail: { cutoff: null, limitedBy: 'open_month', runs: 0 },
    })
  })

  it('stops at the end of the last closed month before the first month not closed', async () => {
    await s.deps.pool.query(
      `INSERT INTO sla_month_closes (month, customers) VALUES ('2025-01-01', 0), ('2025-02-01', 0), ('2025-04-01', 0)`,
    )
    const tick = new Date(Date.now() + 60_000)
    expect(await s.deps.scheduler.runNow(RETENTION_JOB, tick)).toMatchObject({
      status: 'succeeded',
      detail: { cutoff: '2025-03-01T00:00:00.000Z', limitedBy: 'open_month' },
    })
  })

  it('shows the history tables’ sizes on /metrics', async () => {
    const text = await (await s.api('GET', '/metrics', undefined, null)).text()
    for (const table of ['runs', 'jobs', 'job_attempts', 'job_usage', 'workers', 'scheduled_runs']) {
      expect(text).toMatch(new RegExp(`steward_table_rows\\{table="${table}"\\} \\d+`))
      expect(text).toMatch(new RegExp(`steward_table_bytes\\{table="${table}"\\} [1-9]\\d*`))
    }
  })
})
