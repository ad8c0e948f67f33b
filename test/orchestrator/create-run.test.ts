// Creating runs at once: concurrent creates share statements (fewer commits), each run complete
// with its jobs and its event; one bad request fails alone; one key yields one run.
import { describe, expect, it } from 'vitest'
import type { Pool } from '../../src/db/postgres.ts'
import { createEgressPolicy } from '../../src/egress/index.ts'
import { ValidationError } from '../../src/errors.ts'
import { createRun, handlerSet } from '../../src/orchestrator/index.ts'
import { acmeDatabase, fastConfig } from './helpers.ts'

const config = fastConfig()
const handlers = handlerSet(createEgressPolicy())
let pool: Pool
acmeDatabase((p) => {
  pool = p
})

const body = (extra: Record<string, unknown> = {}) => ({
  customerId: 'acme',
  projectId: 'web',
  type: 'build',
  priority: 0,
  steps: [
    { key: 'a', kind: 'noop', input: {} },
    { key: 'b', kind: 'noop', input: {}, dependsOn: ['a'] },
  ],
  ...extra,
})

describe('creating runs at once', () => {
  it('shares statements between concurrent creates, each run complete with its jobs and event', async () => {
    const runs = await Promise.all(
      Array.from({ length: 40 }, () => createRun(pool, config, handlers, body())),
    )
    expect(runs.every((r) => r.created)).toBe(true)
    const ids = runs.map((r) => r.id)
    expect(new Set(ids).size).toBe(40)
    const { rows } = await pool.query<{ id: string; jobs: number; queued: number; statements: number }>(
      `SELECT r.id, count(j.*)::int AS jobs, count(*) FILTER (WHERE j.status = 'queued')::int AS queued
       FROM runs r JOIN jobs j ON j.run_id = r.id WHERE r.id = ANY ($1) GROUP BY r.id`,
      [ids],
    )
    expect(rows).toHaveLength(40)
    for (const r of rows) expect(r).toMatchObject({ jobs: 2, queued: 1 })
    // A statement's runs share its transaction's time: fewer distinct times than runs.
    const { rows: times } = await pool.query<{ n: number }>(
      'SELECT count(DISTINCT created_at)::int AS n FROM runs WHERE id = ANY ($1)',
      [ids],
    )
    expect(times[0]!.n).toBeLessThan(40)
    const { rows: events } = await pool.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM telemetry_outbox WHERE body->>'action' = 'created' AND body->>'runId' = ANY ($1)`,
      [ids],
    )
    expect(events[0]!.n).toBe(40)
  })

  it('fails only the run that names an unknown customer, and creates the others', async () => {
    const results = await Promise.allSettled([
      ...Array.from({ length: 5 }, () => createRun(pool, config, handlers, body())),
      createRun(pool, config, handlers, body({ customerId: 'nobody' })),
      ...Array.from({ length: 5 }, () => createRun(pool, config, handlers, body())),
    ])
    const failed = results.filter((r) => r.status === 'rejected')
    expect(failed).toHaveLength(1)
    const reason = (failed[0] as PromiseRejectedResult).reason
    expect(reason).toBeInstanceOf(ValidationError)
    expect(String(reason.message)).toMatch(/not registered/)
    const ok = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value.id] : []))
    const { rows } = await pool.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM runs WHERE id = ANY ($1)',
      [ok],
    )
    expect(rows[0]!.n).toBe(10)
    const { rows: none } = await pool.query(`SELECT 1 FROM runs WHERE customer_id = 'nobody'`)
    expect(none).toHaveLength(0)
  })

  it('yields one run for one idempotency key, also when the requests share a statement', async () => {
    const same = () => createRun(pool, config, handlers, body({ idempotencyKey: 'shared-key' }))
    const results = await Promise.all([same(), same(), same()])
    expect(new Set(results.map((r) => r.id)).size).toBe(1)
    expect(results.filter((r) => r.created)).toHaveLength(1)
    const { rows } = await pool.query<{ n: number; jobs: number }>(
      `SELECT count(DISTINCT r.id)::int AS n, count(j.*)::int AS jobs
       FROM runs r JOIN jobs j ON j.run_id = r.id WHERE r.idempotency_key = 'shared-key'`,
    )
    expect(rows[0]).toEqual({ n: 1, jobs: 2 })
    const again = await same()
    expect(again).toMatchObject({ id: results[0]!.id, created: false })
  })

  it('creates every run without a key beside keyed ones in one statement, each with its jobs and event', async () => {
    const keyed = () => createRun(pool, config, handlers, body({ idempotencyKey: 'mixed-key' }))
    const keyless = () => createRun(pool, config, handlers, body())
    const results = await Promise.all([keyless(), keyed(), keyless(), keyed(), keyless()])
    const [a, b, c, d, e] = results
    expect(b!.id).toBe(d!.id)
    expect(new Set([a!.id, b!.id, c!.id, e!.id]).size).toBe(4)
    expect(results.filter((r) => r.created)).toHaveLength(4)
    const { rows } = await pool.query<{ id: string; jobs: number; events: number }>(
      `SELECT r.id, (SELECT count(*) FROM jobs j WHERE j.run_id = r.id)::int AS jobs,
              (SELECT count(*) FROM telemetry_outbox o WHERE o.body->>'runId' = r.id)::int AS events
       FROM runs r WHERE r.id = ANY($1) ORDER BY r.id`,
      [[a!.id, b!.id, c!.id, e!.id]],
    )
    expect(rows.map((r) => [r.jobs, r.events])).toEqual([
      [2, 1],
      [2, 1],
      [2, 1],
      [2, 1],
    ])
  })
})
