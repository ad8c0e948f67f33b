import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Pool } from '../../src/db/postgres.ts'
import { createScheduler, InvalidCronError } from '../../src/scheduler/index.ts'
import { createTestPool, quietLog } from '../helpers/db.ts'

let pool: Pool
beforeAll(async () => {
  ;({ pool } = await createTestPool())
})
afterAll(async () => {
  await pool?.end()
})

const at = (iso: string) => new Date(iso)

describe('scheduled jobs', () => {
  it('runs a tick once across instances and records the run', async () => {
    let runs = 0
    const job = {
      name: 'once',
      cron: '* * * * *',
      run: async () => {
        runs++
        await new Promise((r) => setTimeout(r, 50))
        return { counted: true }
      },
    }
    const a = createScheduler({ pool, log: quietLog, instanceId: 'a' })
    const b = createScheduler({ pool, log: quietLog, instanceId: 'b' })
    a.register(job)
    b.register({ ...job })
    const outcomes = await Promise.all([
      a.runNow('once', at('2026-01-01T00:00:10Z')),
      b.runNow('once', at('2026-01-01T00:00:40Z')),
    ])
    expect(runs).toBe(1)
    expect(outcomes.map((o) => o.status).sort()).toEqual(['skipped', 'succeeded'])
    // A later attempt at the same minute (another instance, after the first finished) skips too.
    expect(await b.runNow('once', at('2026-01-01T00:00:59Z'))).toEqual({
      status: 'skipped',
      reason: 'already-ran',
    })
    const { rows } = await pool.query(
      "SELECT scheduled_for, outcome, detail FROM scheduled_runs WHERE job = 'once'",
    )
    expect(rows).toEqual([
      { scheduled_for: at('2026-01-01T00:00:00Z'), outcome: 'succeeded', detail: { counted: true } },
    ])
  })

  it('records a failed run with its error and runs the next tick', async () => {
    const s = createScheduler({ pool, log: quietLog, instanceId: 'a' })
    let fail = true
    s.register({
      name: 'flaky',
      cron: '*/5 * * * *',
      run: async () => {
        if (fail) throw new Error('clickhouse unreachable')
        return undefined
      },
    })
    expect(await s.runNow('flaky', at('2026-01-01T00:05:00Z'))).toEqual({
      status: 'failed',
      error: 'clickhouse unreachable',
    })
    fail = false
    expect((await s.runNow('flaky', at('2026-01-01T00:10:00Z'))).status).toBe('succeeded')
    const { rows } = await pool.query(
      "SELECT outcome, error FROM scheduled_runs WHERE job = 'flaky' ORDER BY scheduled_for",
    )
    expect(rows).toEqual([
      { outcome: 'failed', error: 'clickhouse unreachable' },
      { outcome: 'succeeded', error: null },
    ])
  })

  it('catches up the latest missed tick on start', async () => {
    const s = createScheduler({ pool, log: quietLog, instanceId: 'a' })
    const seen: Date[] = []
    // Due every minute: the current minute has no successful run yet, so start() runs it once.
    s.register({
      name: 'catch-up',
      cron: '* * * * *',
      run: async ({ scheduledFor }) => {
        seen.push(scheduledFor)
        return undefined
      },
    })
    await s.start()
    await expect.poll(() => seen.length, { timeout: 5_000 }).toBeGreaterThanOrEqual(1)
    await s.stop()
    expect(seen[0]!.getUTCSeconds()).toBe(0)
    // A second instance starting now finds the tick done and does not run it again.
    const other = createScheduler({ pool, log: quietLog, instanceId: 'b' })
    const again: Date[] = []
    other.register({
      name: 'catch-up',
      cron: '* * * * *',
      run: async ({ scheduledFor }) => {
        again.push(scheduledFor)
        return undefined
      },
    })
    await other.start()
    await new Promise((r) => setTimeout(r, 300))
    await other.stop()
    // (If the minute rolled over meanwhile, the new minute's tick may run: never the same one.)
    expect(again.map(Number)).not.toContain(seen[0]!.getTime())
  })

  it('refuses an invalid or six-field cron expression', () => {
    const s = createScheduler({ pool, log: quietLog, instanceId: 'a' })
    expect(() => s.register({ name: 'bad', cron: 'every minute', run: async () => undefined })).toThrowError(
      InvalidCronError,
    )
    expect(() =>
      s.register({ name: 'secs', cron: '*/5 * * * * *', run: async () => undefined }),
    ).toThrowError(/five-field/)
  })
})
