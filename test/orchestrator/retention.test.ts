// Bounded history: finished runs older than the retention go in batches with their jobs, attempts
// and usage, but never before their telemetry left the outbox for ClickHouse, never in a month not
// yet closed, and never a run that is not finished; the queue keeps running meanwhile.
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import type { ClickHouseHandle } from '../../src/db/clickhouse.ts'
import { migrate } from '../../src/db/migrate.ts'
import type { Pool } from '../../src/db/postgres.ts'
import { createEgressPolicy } from '../../src/egress/index.ts'
import { ingestConfigSchema } from '../../src/ingest/config.ts'
import { OutboxRelay } from '../../src/ingest/index.ts'
import { createRun, handlerSet, pruneHistory, Worker } from '../../src/orchestrator/index.ts'
import { createTestPool, openTestClickHouse, quietLog } from '../helpers/db.ts'
import { fastConfig, succeededCount } from './helpers.ts'

const config = fastConfig({ concurrency: 8, retry: { maxAttempts: 4, backoffMs: 1, maxBackoffMs: 5 } })
const handlers = handlerSet(createEgressPolicy(), [])
const DAY = 86_400_000

let ch: ClickHouseHandle
let pool: Pool
let worker: Worker
beforeAll(async () => {
  ch = await openTestClickHouse()
})
afterAll(async () => {
  await ch?.close()
})
beforeEach(async () => {
  ;({ pool } = await createTestPool())
  await migrate({ pool, clickhouse: ch.client, log: quietLog })
  await pool.query(`INSERT INTO customers (id, name) VALUES ('acme', 'Acme')`)
  worker = new Worker({ pool, config, log: quietLog, handlers })
  await worker.start()
})
afterEach(async () => {
  await worker?.stop(1_000)
  await pool?.end()
})

async function until(check: () => Promise<boolean>, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 25))
  }
}

/** Runs of two steps (the first fails once, both report usage), run to success by the worker. */
async function finishedRuns(n: number): Promise<string[]> {
  const ids: string[] = []
  for (let i = 0; i < n; i++) {
    const usage = { model: 'm', inputTokens: 10, outputTokens: 1 }
    const run = await createRun(pool, config, handlers, {
      customerId: 'acme',
      projectId: 'web',
      type: 'build',
      priority: 0,
      steps: [
        { key: 'a', kind: 'simulate', input: { failTimes: 1, usage } },
        { key: 'b', kind: 'simulate', input: { usage }, dependsOn: ['a'] },
      ],
    } as Parameters<typeof createRun>[3])
    ids.push(run.id)
  }
  await until(async () => (await succeededCount(pool, ids)) === n, 'the runs to succeed')
  return ids
}

/** Moves everything these runs did, and their telemetry still in the outbox, `days` into the past. */
async function age(runIds: string[], days: number): Promise<void> {
  const by = `interval '${days} days'`
  await pool.query(
    `UPDATE runs SET created_at = created_at - ${by}, started_at = started_at - ${by},
       finished_at = finished_at - ${by} WHERE id = ANY($1)`,
    [runIds],
  )
  await pool.query(
    `UPDATE jobs SET created_at = created_at - ${by}, started_at = started_at - ${by},
       finished_at = finished_at - ${by}, run_at = run_at - ${by} WHERE run_id = ANY($1)`,
    [runIds],
  )
  await pool.query(
    `UPDATE job_attempts a SET started_at = a.started_at - ${by}, finished_at = a.finished_at - ${by}
     FROM jobs j WHERE j.id = a.job_id AND j.run_id = ANY($1)`,
    [runIds],
  )
  await pool.query(`UPDATE job_usage SET reported_at = reported_at - ${by} WHERE run_id = ANY($1)`, [runIds])
  await pool.query(
    `UPDATE telemetry_outbox SET enqueued_at = enqueued_at - ${by} WHERE body->>'runId' = ANY($1)`,
    [runIds],
  )
}

/** Ships the whole outbox to ClickHouse with the real relay. */
async function ship(): Promise<void> {
  const relay = new OutboxRelay({
    pool,
    clickhouse: ch.client,
    config: { ...ingestConfigSchema.parse({}).relay, batchSize: 500 },
    log: quietLog,
    instanceId: 'retention-test',
  })
  await relay.drain()
  await relay.stop()
}

/** How many rows of each history table belong to these runs. */
async function rowsOf(runIds: string[]) {
  const { rows } = await pool.query(
    `SELECT (SELECT count(*)::int FROM runs WHERE id = ANY($1)) AS runs,
            (SELECT count(*)::int FROM jobs WHERE run_id = ANY($1)) AS jobs,
            (SELECT count(*)::int FROM job_attempts a JOIN jobs j ON j.id = a.job_id WHERE j.run_id = ANY($1)) AS attempts,
            (SELECT count(*)::int FROM job_usage WHERE run_id = ANY($1)) AS usage`,
    [runIds],
  )
  return rows[0] as { runs: number; jobs: number; attempts: number; usage: number }
}

const allClosed = async () => new Date()
const retention = (batchSize = 1_000) => ({ days: 30, batchSize })

describe('retention', () => {
  it('deletes finished runs older than the retention, with their jobs, attempts and usage, in batches', async () => {
    const old = await finishedRuns(5)
    const recent = await finishedRuns(2)
    await age(old, 40)
    await age(recent, 20)
    await ship()
    expect(await rowsOf(old)).toEqual({ runs: 5, jobs: 10, attempts: 15, usage: 10 })

    const pruned = await pruneHistory({ pool, config: retention(2), closedUntil: allClosed })

    expect(pruned).toMatchObject({ runs: 5, jobs: 10, batches: 3, limitedBy: 'retention' })
    expect(await rowsOf(old)).toEqual({ runs: 0, jobs: 0, attempts: 0, usage: 0 })
    expect(await rowsOf(recent)).toEqual({ runs: 2, jobs: 4, attempts: 6, usage: 4 })
  })

  it('keeps an old run whose telemetry is still in the outbox, and every run finished after it', async () => {
    const shipped = await finishedRuns(2)
    await age(shipped, 50)
    await ship()
    const unshipped = await finishedRuns(2)
    await age(unshipped, 40)
    const later = await finishedRuns(1)
    await age(later, 35)

    const pruned = await pruneHistory({ pool, config: retention(), closedUntil: allClosed })

    expect(pruned).toMatchObject({ runs: 2, limitedBy: 'telemetry' })
    expect((await rowsOf(shipped)).runs).toBe(0)
    expect((await rowsOf(unshipped)).runs).toBe(2)
    expect((await rowsOf(later)).runs).toBe(1)

    await ship()
    expect(await pruneHistory({ pool, config: retention(), closedUntil: allClosed })).toMatchObject({
      runs: 3,
      limitedBy: 'retention',
    })
  })

  it('keeps the runs of a month not yet closed, and every run while no month is closed', async () => {
    const ids = await finishedRuns(3)
    await age(ids.slice(0, 1), 70)
    await age(ids.slice(1), 40)
    await ship()
    const finished = (
      await pool.query<{ f: Date }>(`SELECT finished_at AS f FROM runs WHERE id = ANY($1) ORDER BY f`, [ids])
    ).rows.map((r) => r.f)
    // The month closes between the oldest run and the two others.
    const closedUntil = async () => new Date(finished[0]!.getTime() + DAY)

    expect(await pruneHistory({ pool, config: retention(), closedUntil: async () => null })).toMatchObject({
      runs: 0,
      cutoff: null,
      limitedBy: 'open_month',
    })
    expect(await pruneHistory({ pool, config: retention(), closedUntil })).toMatchObject({
      runs: 1,
      limitedBy: 'open_month',
    })
    expect((await rowsOf(ids.slice(0, 1))).runs).toBe(0)
    expect((await rowsOf(ids.slice(1))).runs).toBe(2)
  })

  it('never deletes a run that is not finished, however old', async () => {
    const [running] = await finishedRuns(1)
    await age([running!], 40)
    await pool.query(`UPDATE runs SET status = 'running', finished_at = NULL WHERE id = $1`, [running])
    await ship()
    expect((await pruneHistory({ pool, config: retention(), closedUntil: allClosed })).runs).toBe(0)
    expect((await rowsOf([running!])).runs).toBe(1)
  })

  it('deletes in batches while the queue keeps running new runs to success', async () => {
    const old = await finishedRuns(30)
    await age(old, 40)
    await ship()
    // New runs keep coming and finishing while retention works through the old ones.
    const fresh: string[] = []
    let producing = true
    const producer = (async () => {
      while (producing) fresh.push(...(await finishedRuns(1)))
    })()
    await until(async () => fresh.length >= 2, 'new runs to finish')
    const pruned = await pruneHistory({ pool, config: retention(3), closedUntil: allClosed })
    producing = false
    await producer

    expect(pruned.runs).toBe(30)
    expect(pruned.batches).toBeGreaterThanOrEqual(10)
    expect((await rowsOf(old)).runs).toBe(0)
    expect(await rowsOf(fresh)).toMatchObject({ runs: fresh.length, jobs: 2 * fresh.length })
    expect(await succeededCount(pool, fresh)).toBe(fresh.length)
  })

  it('deletes old scheduler records and gone workers, keeping each job’s latest success', async () => {
    await pool.query(`
      INSERT INTO scheduled_runs (job, scheduled_for, instance, outcome) VALUES
        ('monthly', now() - interval '40 days', 'i', 'succeeded'),
        ('monthly', now() - interval '70 days', 'i', 'succeeded'),
        ('hourly', now() - interval '40 days', 'i', 'failed'),
        ('hourly', now() - interval '1 hour', 'i', 'succeeded');
      INSERT INTO workers (id, pool, concurrency, status, last_heartbeat_at) VALUES
        ('gone', 'default', 1, 'stopped', now() - interval '40 days'),
        ('lost-recently', 'default', 1, 'lost', now() - interval '1 day')`)
    await ship()
    const pruned = await pruneHistory({ pool, config: retention(), closedUntil: allClosed })
    expect(pruned).toMatchObject({ scheduledRuns: 2, workers: 1 })
    const left = await pool.query(`SELECT job, outcome FROM scheduled_runs ORDER BY job`)
    expect(left.rows).toEqual([
      { job: 'hourly', outcome: 'succeeded' },
      { job: 'monthly', outcome: 'succeeded' },
    ])
    const workers = await pool.query(`SELECT id FROM workers WHERE id IN ('gone', 'lost-recently')`)
    expect(workers.rows).toEqual([{ id: 'lost-recently' }])
  })

  it('keeps everything when retention.days is 0', async () => {
    const ids = await finishedRuns(1)
    await age(ids, 400)
    await ship()
    const pruned = await pruneHistory({ pool, config: { days: 0, batchSize: 10 }, closedUntil: allClosed })
    expect(pruned).toMatchObject({ runs: 0, limitedBy: 'disabled' })
    expect((await rowsOf(ids)).runs).toBe(1)
  })
})
