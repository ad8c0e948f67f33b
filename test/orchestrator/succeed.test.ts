// Successes committed together: one transaction records several jobs' results (each under its own
// lease), counts each run once per job, unblocks dependents and finishes runs.
import { describe, expect, it } from 'vitest'
import type { Pool } from '../../src/db/postgres.ts'
import { createEgressPolicy } from '../../src/egress/index.ts'
import { claimJobs } from '../../src/orchestrator/claim.ts'
import { createRun, handlerSet } from '../../src/orchestrator/index.ts'
import { failJob } from '../../src/orchestrator/queue.ts'
import { succeedJobs } from '../../src/orchestrator/succeed.ts'
import { acmeDatabase, fastConfig } from './helpers.ts'

const config = fastConfig()
const handlers = handlerSet(createEgressPolicy())
let pool: Pool
acmeDatabase((p) => {
  pool = p
})

const body = (steps: { key: string; kind: string; dependsOn?: string[] }[]) => ({
  customerId: 'acme',
  projectId: 'web',
  type: 'build',
  priority: 0,
  steps,
})
const claim = (worker: string, limit: number) => claimJobs(pool, 'default', worker, limit, 30_000)
const outbox = async (runId: string) =>
  (
    await pool.query(`SELECT body FROM telemetry_outbox WHERE body->>'runId' = $1 ORDER BY seq`, [runId])
  ).rows.map((r) => `${r.body.type}:${r.body.action}${r.body.stepKey ? `:${r.body.stepKey}` : ''}`)

describe('committing several successes at once', () => {
  it('counts two jobs of one run and unblocks their join', async () => {
    const run = await createRun(
      pool,
      config,
      handlers,
      body([
        { key: 'a', kind: 'noop' },
        { key: 'b', kind: 'noop' },
        { key: 'join', kind: 'noop', dependsOn: ['a', 'b'] },
      ]),
    )
    const jobs = await claim('w1', 2)
    expect(jobs.map((j) => j.step_key).sort()).toEqual(['a', 'b'])
    const written = await succeedJobs(
      pool,
      'w1',
      jobs.map((job) => ({ job, output: { step: job.step_key }, durationMs: 3 })),
    )
    expect(written.size).toBe(2)
    const r = (await pool.query(`SELECT status, jobs_succeeded FROM runs WHERE id = $1`, [run.id])).rows[0]
    expect(r).toEqual({ status: 'running', jobs_succeeded: 2 })
    const next = await claim('w1', 2)
    expect(next.map((j) => j.step_key)).toEqual(['join'])

    const last = await succeedJobs(pool, 'w1', [{ job: next[0]!, output: null, durationMs: 1 }])
    expect(last.size).toBe(1)
    const done = (await pool.query(`SELECT status, jobs_succeeded FROM runs WHERE id = $1`, [run.id])).rows[0]
    expect(done).toEqual({ status: 'succeeded', jobs_succeeded: 3 })
    const events = await outbox(run.id)
    expect(events.filter((e) => e === 'run:succeeded')).toHaveLength(1)
    expect(events.filter((e) => e.startsWith('job:succeeded')).sort()).toEqual([
      'job:succeeded:a',
      'job:succeeded:b',
      'job:succeeded:join',
    ])
  })

  it('writes nothing for a job whose lease was lost, and still records the others', async () => {
    const one = await createRun(pool, config, handlers, body([{ key: 'x', kind: 'noop' }]))
    const two = await createRun(pool, config, handlers, body([{ key: 'y', kind: 'noop' }]))
    const [j1, j2] = await claim('w2', 2)
    // The first job's lease expired and another worker claimed it again (attempt 2).
    await pool.query(`UPDATE jobs SET status = 'queued', lease_owner = NULL WHERE id = $1`, [j1!.id])
    const [again] = await claim('w3', 1)
    expect(again).toMatchObject({ id: j1!.id, attempt: 2 })

    const written = await succeedJobs(pool, 'w2', [
      { job: j1!, output: 'stale', durationMs: 1 },
      { job: j2!, output: 'fresh', durationMs: 1 },
    ])
    expect([...written]).toEqual([`${j2!.id}:${j2!.attempt}`])
    const rows = (
      await pool.query(`SELECT id, status, output, lease_owner FROM jobs WHERE id = ANY ($1) ORDER BY id`, [
        [j1!.id, j2!.id],
      ])
    ).rows
    expect(rows.find((x) => x.id === j1!.id)).toMatchObject({
      status: 'running',
      output: null,
      lease_owner: 'w3',
    })
    expect(rows.find((x) => x.id === j2!.id)).toMatchObject({ status: 'succeeded', output: 'fresh' })
    const runs = (await pool.query(`SELECT id, status FROM runs WHERE id = ANY ($1)`, [[one.id, two.id]]))
      .rows
    const byId = Object.fromEntries(runs.map((x) => [x.id, x.status]))
    expect(byId[j1!.run_id]).toBe('running')
    expect(byId[j2!.run_id]).toBe('succeeded')
  })

  it('settles a run whose other job failed, when its last job succeeds', async () => {
    const run = await createRun(
      pool,
      config,
      handlers,
      body([
        { key: 'bad', kind: 'noop' },
        { key: 'good', kind: 'noop' },
      ]),
    )
    const jobs = (await claim('w4', 8)).filter((j) => j.run_id === run.id)
    const bad = jobs.find((j) => j.step_key === 'bad')!
    const good = jobs.find((j) => j.step_key === 'good')!
    expect(good.has_dependents).toBe(false)
    await failJob(pool, { job: bad, workerId: 'w4' }, 'validation', 'no', 1, {
      maxBackoffMs: 1,
      maxReclaims: 5,
    })
    expect((await pool.query(`SELECT status FROM runs WHERE id = $1`, [run.id])).rows[0].status).toBe(
      'running',
    )
    // The statement alone cannot settle the run: it gives way to the transaction that does.
    const written = await succeedJobs(pool, 'w4', [{ job: good, output: null, durationMs: 1 }])
    expect([...written]).toEqual([`${good.id}:${good.attempt}`])
    const r = (
      await pool.query(`SELECT status, jobs_succeeded, jobs_failed FROM runs WHERE id = $1`, [run.id])
    ).rows[0]
    expect(r).toEqual({ status: 'failed', jobs_succeeded: 1, jobs_failed: 1 })
    const events = await outbox(run.id)
    expect(events.filter((e) => e === 'run:failed')).toHaveLength(1)
    expect(events.filter((e) => e === 'job:succeeded:good')).toHaveLength(1)
  })
})
