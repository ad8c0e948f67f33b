// A claim appends its own `started` events in the statement that starts the jobs (claim.ts builds
// them in SQL): the same events `jobEvent` and `runEvent` build, one per job and one per run it
// started, valid as any telemetry event, with the time the job started.
import { describe, expect, it } from 'vitest'
import type { Pool } from '../../src/db/postgres.ts'
import { createEgressPolicy } from '../../src/egress/index.ts'
import { TelemetryEvent } from '../../src/ingest/index.ts'
import { claimIn, claimJobs } from '../../src/orchestrator/claim.ts'
import { jobEvent, runEvent } from '../../src/orchestrator/events.ts'
import { createRun, handlerSet } from '../../src/orchestrator/index.ts'
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

/** The `started` events in the outbox of these runs, as stored. */
async function startedEvents(runIds: string[]): Promise<Record<string, unknown>[]> {
  const { rows } = await pool.query<{ body: Record<string, unknown>; event_id: string; source: string }>(
    `SELECT body, event_id, source FROM telemetry_outbox
     WHERE body->>'runId' = ANY ($1) AND body->>'action' = 'started' ORDER BY seq`,
    [runIds],
  )
  for (const r of rows) {
    expect(r.source).toBe('steward')
    expect(r.event_id).toBe(r.body.eventId)
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
})
