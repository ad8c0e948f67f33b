import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Pool } from '../../src/db/postgres.ts'
import { getDlqSize, getQueueStats, recommendWorkers } from '../../src/orchestrator/index.ts'
import { createTestPool } from '../helpers/db.ts'

const autoscale = { jobsPerWorker: 10, minWorkers: 0, maxWorkers: 5, cooldownSeconds: 60 }
let pool: Pool
beforeAll(async () => {
  pool = (await createTestPool()).pool
  await pool.query(`INSERT INTO customers (id, name) VALUES ('acme', 'Acme')`)
  await pool.query(`INSERT INTO runs (id, customer_id, project_id, type) VALUES ('r1', 'acme', 'p', 't')`)
  const jobs = [
    ['j1', 'queued', 'gpu', "now() - interval '30 seconds'"],
    ['j2', 'queued', 'gpu', 'now()'],
    ['j3', 'running', 'gpu', 'now()'],
    ['j4', 'dead', 'default', 'now()'],
    ['j5', 'queued', 'default', "now() + interval '1 hour'"],
  ]
  for (const [id, status, p, runAt] of jobs) {
    await pool.query(
      `INSERT INTO jobs (id, run_id, customer_id, project_id, run_type, step_key, kind, pool, max_attempts, backoff_ms, status, run_at)
       VALUES ($1, 'r1', 'acme', 'p', 't', $1, 'noop', $2, 4, 10, $3, ${runAt})`,
      [id, p, status],
    )
  }
})
afterAll(async () => {
  await pool?.end()
})

describe('queue statistics', () => {
  it('counts ready depth, oldest ready age and running jobs per pool; future retries are not ready', async () => {
    const stats = await getQueueStats(pool, { autoscale, workerLostAfterMs: 60_000 })
    const gpu = stats.find((s) => s.pool === 'gpu')!
    expect(gpu).toMatchObject({ depth: 2, running: 1, liveWorkers: 0, recommendedWorkers: 1 })
    expect(gpu.oldestReadyAgeSeconds).toBeGreaterThanOrEqual(29)
    const def = stats.find((s) => s.pool === 'default')!
    expect(def).toMatchObject({ depth: 0, running: 0 })
  })

  it('counts the dead-letter queue per customer', async () => {
    expect(await getDlqSize(pool)).toBe(1)
    expect(await getDlqSize(pool, 'acme')).toBe(1)
    expect(await getDlqSize(pool, 'globex')).toBe(0)
  })
})

describe('worker recommendation', () => {
  it('scales up at once and caps at maxWorkers', () => {
    expect(recommendWorkers(25, 1, 0, autoscale)).toBe(3)
    expect(recommendWorkers(1000, 1, 0, autoscale)).toBe(5)
  })
  it('scales down (and to zero) only after the cooldown', () => {
    expect(recommendWorkers(0, 3, 10, autoscale)).toBe(3)
    expect(recommendWorkers(0, 3, 61, autoscale)).toBe(0)
    expect(recommendWorkers(0, 3, 61, { ...autoscale, minWorkers: 1 })).toBe(1)
  })
})
