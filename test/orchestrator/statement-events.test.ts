// The statements that claim jobs and record their successes append their own events (events.ts
// builds them in SQL): the same events `jobEvent` and `runEvent` build, one per job and one per
// run, valid as any telemetry event, at the time of the change.
import { describe, expect, it } from 'vitest'
import type { Pool } from '../../src/db/postgres.ts'
import { createEgressPolicy } from '../../src/egress/index.ts'
import { TelemetryEvent } from '../../src/ingest/index.ts'
import { claimIn, claimJobs } from '../../src/orchestrator/claim.ts'
import { jobEvent, runEvent } from '../../src/orchestrator/events.ts'
import { createRun, handlerSet } from '../../src/orchestrator/index.ts'
import { succeedJobs } from '../../src/orchestrator/succeed.ts'
import { acmeDatabase, fastConfig } from './helpers.ts'

const config = fastConfig()
const handlers = handlerSet(createEgressPolicy())
let pool: Pool
acmeDatabase((p) => {
  pool = p
})

const body = (steps: string[]) => ({
  customerId: 'acme',
  projectId: 'web',
  type: 'build',
  priority: 0,
  steps: steps.map((key) => ({ key, kind: 'noop', input: {} })),
})

/** The events in the outbox of these runs with this action, as stored. */
async function startedEvents(runIds: string[], action = 'started'): Promise<Record<string, unknown>[]> {
  const { rows } = await pool.query<{
    body: Record<string, unknown>
    event_id: string
    source: string
    in_dedup_window: boolean
  }>(
    `SELECT body, event_id, source, in_dedup_window FROM telemetry_outbox
     WHERE body->>'runId' = ANY ($1) AND body->>'action' = $2 ORDER BY seq`,
    [runIds, action],
  )
  for (const r of rows) {
    expect(r.source).toBe('steward')
    expect(r.event_id).toBe(r.body.eventId)
    // A fresh id: neither recorded in the dedup window nor indexed for its pruning.
    expect(r.in_dedup_window).toBe(false)
  }
  return rows.map((r) => r.body)
}

describe('the events a claim appends', () => {
  it('are the events jobEvent and runEvent build, once per job and once per run', async () => {
    const a = await createRun(pool, config, handlers, body(['x', 'y']))
    const b = await createRun(pool, config, handlers, body(['z']))
    const claimed = await claimJobs(pool, 'default', 'worker-1', 8, 30_000)
    expect(claimed).toHaveLength(3)
    const events = await startedEvents([a.id, b.id])
    // One `run started` per run, before the jobs' events, although run a had two jobs claimed.
    expect(events.map((e) => e.type)).toEqual(['run', 'run', 'job', 'job', 'job'])
    expect(new Set(events.slice(0, 2).map((e) => e.runId))).toEqual(new Set([a.id, b.id]))
    const { rows: started } = await pool.query<{ id: string; started_at: Date }>(
      `SELECT id, started_at FROM jobs WHERE run_id = ANY ($1)`,
      [[a.id, b.id]],
    )
    const startedAt = new Map(started.map((r) => [r.id, r.started_at.toISOString()]))
    for (const job of claimed) {
      const e = events.find((x) => x.type === 'job' && x.jobId === job.id)!
      expect(e).toBeDefined()
      // Canonical: parsing adds nothing (no default filled in, no field unknown to the schema).
      expect(TelemetryEvent.parse(e)).toEqual(e)
      expect(e.eventId).toMatch(/^steward:[0-9a-f-]{36}$/)
      expect(e.ts).toBe(startedAt.get(job.id))
      expect(e).toEqual({
        ...jobEvent(job, 'started', { workerId: 'worker-1' }),
        eventId: e.eventId,
        ts: e.ts,
      })
    }
    for (const runId of [a.id, b.id]) {
      const e = events.find((x) => x.type === 'run' && x.runId === runId)!
      const job = claimed.find((j) => j.run_id === runId)!
      expect(TelemetryEvent.parse(e)).toEqual(e)
      const dims = { id: runId, customer_id: 'acme', project_id: 'web', type: 'build' }
      expect(e).toEqual({ ...runEvent(dims, 'started'), eventId: e.eventId, ts: e.ts })
      expect(Date.parse(e.ts as string)).toBeGreaterThanOrEqual(Date.parse(startedAt.get(job.id)!) - 1)
    }
    expect(new Set(events.map((e) => e.eventId)).size).toBe(events.length)
  })

  it('appends nothing for a run already started, and nothing when nothing is claimed', async () => {
    const r = await createRun(pool, config, handlers, body(['x', 'y']))
    const first = await claimJobs(pool, 'default', 'worker-1', 1, 30_000)
    expect(first).toHaveLength(1)
    const second = await claimJobs(pool, 'default', 'worker-2', 8, 30_000)
    expect(second).toHaveLength(1)
    expect(await claimJobs(pool, 'default', 'worker-2', 8, 30_000)).toHaveLength(0)
    const events = await startedEvents([r.id])
    expect(events.map((e) => `${e.type}:${e.workerId ?? ''}`)).toEqual([
      'run:',
      'job:worker-1',
      'job:worker-2',
    ])
  })

  it('rolls back with the claim when the claim is part of a transaction that aborts', async () => {
    const r = await createRun(pool, config, handlers, body(['x']))
    const c = await pool.connect()
    try {
      await c.query('BEGIN')
      expect(await claimIn(c, 'worker-1', { poolName: 'default', limit: 8, leaseMs: 30_000 })).toHaveLength(1)
      await c.query('ROLLBACK')
    } finally {
      c.release()
    }
    expect(await startedEvents([r.id])).toEqual([])
    const { rows } = await pool.query(`SELECT status FROM jobs WHERE run_id = $1`, [r.id])
    expect(rows).toEqual([{ status: 'queued' }])
  })

  it('records successes with the events of the jobs, then of the runs they finish', async () => {
    const a = await createRun(pool, config, handlers, body(['x', 'y']))
    const b = await createRun(pool, config, handlers, body(['z']))
    // (The job the previous test left queued may be claimed too.)
    const jobs = (await claimJobs(pool, 'default', 'worker-1', 8, 30_000)).filter((j) =>
      [a.id, b.id].includes(j.run_id),
    )
    expect(jobs).toHaveLength(3)
    // Run a finishes only with its second job: its first success alone finishes nothing.
    const xa = jobs.find((j) => j.step_key === 'x')!
    const rest = jobs.filter((j) => j !== xa)
    await succeedJobs(pool, 'worker-1', [{ job: xa, output: {}, durationMs: 12.5 }])
    expect(await startedEvents([a.id], 'succeeded')).toHaveLength(1)
    await succeedJobs(
      pool,
      'worker-1',
      rest.map((job, i) => ({ job, output: { i }, durationMs: 7.49 + i })),
    )
    const events = await startedEvents([a.id, b.id], 'succeeded')
    expect(events.map((e) => e.type)).toEqual(['job', 'job', 'job', 'run', 'run'])
    const { rows: finished } = await pool.query<{ id: string; finished_at: Date }>(
      `SELECT id, finished_at FROM jobs WHERE run_id = ANY ($1)`,
      [[a.id, b.id]],
    )
    const finishedAt = new Map(finished.map((r) => [r.id, r.finished_at.toISOString()]))
    for (const [job, ms] of [[xa, 12.5], ...rest.map((j, i) => [j, 7.49 + i] as const)] as const) {
      const e = events.find((x) => x.type === 'job' && x.jobId === job.id)!
      expect(TelemetryEvent.parse(e)).toEqual(e)
      expect(e.ts).toBe(finishedAt.get(job.id))
      // The duration as the worker rounded it (12.5 ms is 13).
      expect(e).toEqual({
        ...jobEvent(job, 'succeeded', { workerId: 'worker-1', durationMs: ms }),
        eventId: e.eventId,
        ts: e.ts,
      })
    }
    const { rows: runs } = await pool.query<{ id: string; ms: number; finished_at: Date }>(
      `SELECT id, extract(epoch FROM finished_at - created_at)::float8 * 1000 AS ms, finished_at
       FROM runs WHERE id = ANY ($1)`,
      [[a.id, b.id]],
    )
    for (const run of runs) {
      const e = events.find((x) => x.type === 'run' && x.runId === run.id)!
      expect(TelemetryEvent.parse(e)).toEqual(e)
      expect(e.ts).toBe(run.finished_at.toISOString())
      const dims = { id: run.id, customer_id: 'acme', project_id: 'web', type: 'build' }
      expect(e).toEqual({
        ...runEvent(dims, 'succeeded', { durationMs: run.ms }),
        eventId: e.eventId,
        ts: e.ts,
      })
    }
  })

  it('creates a run with its created event, and a run that existed (same key) without one', async () => {
    const req = { ...body(['x']), idempotencyKey: 'statement-events-1' }
    const first = await createRun(pool, config, handlers, req)
    const again = await createRun(pool, config, handlers, req)
    expect(again).toMatchObject({ id: first.id, created: false })
    const events = await startedEvents([first.id], 'created')
    expect(events).toHaveLength(1)
    const e = events[0]!
    expect(TelemetryEvent.parse(e)).toEqual(e)
    const { rows } = await pool.query<{ created_at: Date }>('SELECT created_at FROM runs WHERE id = $1', [
      first.id,
    ])
    expect(e.ts).toBe(rows[0]!.created_at.toISOString())
    const dims = { id: first.id, customer_id: 'acme', project_id: 'web', type: 'build' }
    expect(e).toEqual({ ...runEvent(dims, 'created'), eventId: e.eventId, ts: e.ts })
  })
})
