// The hot statements that are their own transaction (a claim, a run's creation) are planned with
// sequential scans off on each connection: the plan PostgreSQL keeps for the connection is the
// one with the indexes, even when it is made while the tables are nearly empty.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createPool, type Pool } from '../../src/db/postgres.ts'
import { createEgressPolicy } from '../../src/egress/index.ts'
import { claimJobs } from '../../src/orchestrator/claim.ts'
import { createRun, handlerSet, orchestratorConfigSchema } from '../../src/orchestrator/index.ts'
import { failJob, renewLeases } from '../../src/orchestrator/queue.ts'
import { prepared, runKeyed } from '../../src/orchestrator/sql.ts'
import { succeedJobs } from '../../src/orchestrator/succeed.ts'
import { createTestPool } from '../helpers/db.ts'
import { acmeRun } from './helpers.ts'

let pool: Pool
let url: string
beforeAll(async () => {
  const made = await createTestPool()
  await made.pool.end()
  url = made.url
  // One connection: every execution below meets the same plan cache.
  pool = createPool(url, { max: 1 })
})
afterAll(async () => {
  await pool?.end()
})

/** The plan of an EXECUTE of a statement this connection prepared: the plan it keeps. */
async function keptPlan(execute: string): Promise<string> {
  const { rows } = await pool.query<{ 'QUERY PLAN': string }>(`EXPLAIN (COSTS OFF) ${execute}`)
  return rows.map((r) => r['QUERY PLAN']).join('\n')
}

const config = orchestratorConfigSchema.parse({})
const handlers = handlerSet(createEgressPolicy(), [])

/** A one-step noop run of `acme`, its job claimed by `worker`. */
async function heldJob(worker: string) {
  await pool.query(`INSERT INTO customers (id, name) VALUES ('acme', 'Acme') ON CONFLICT DO NOTHING`)
  await createRun(pool, config, handlers, acmeRun([{ key: 'x', kind: 'noop' }]))
  const [job] = await claimJobs(pool, 'default', worker, 1, 30_000)
  return job!
}

/** The kept plan of `execute` looks its jobs up by id, not through jobs_running (every running job). */
async function expectLookupById(execute: string) {
  const plan = await keptPlan(execute)
  expect(plan).toContain('jobs_pkey')
  expect(plan).not.toContain('jobs_running')
}

describe('statements run by key', () => {
  it('run their first executions on a connection with sequential scans off, then as they are', async () => {
    const setting = async () =>
      (
        await runKeyed<{ v: string }>(
          pool,
          prepared('test_setting', `SELECT current_setting('enable_seqscan') AS v WHERE $1::int = 1`, [1]),
        )
      ).rows[0]!.v
    const seen: string[] = []
    for (let i = 0; i < 8; i++) seen.push(await setting())
    // PostgreSQL makes the kept (generic) plan at the sixth execution.
    expect(seen).toEqual(['off', 'off', 'off', 'off', 'off', 'off', 'on', 'on'])
    // Each of those ran in a transaction of its own, committed: nothing is left open.
    const { rows } = await pool.query<{ s: string }>('SELECT current_setting($1) AS s', ['enable_seqscan'])
    expect(rows[0]!.s).toBe('on')
  })

  it('keep the index plan made on empty tables once the tables have grown', async () => {
    // A join on the key, as the hot statements make: on a nearly empty table the planner scans it.
    const text = 'SELECT r.id FROM unnest($1::text[]) AS x(id) JOIN runs r ON r.id = x.id'
    for (let i = 0; i < 6; i++) await runKeyed(pool, prepared('test_lookup', text, [['r-1', 'r-2']]))
    await pool.query(`INSERT INTO customers (id, name) VALUES ('big', 'Big') ON CONFLICT DO NOTHING`)
    await pool.query(
      `INSERT INTO runs (id, customer_id, project_id, type, jobs_total)
       SELECT 'r-' || g, 'big', 'p', 't', 1 FROM generate_series(1, 20000) g`,
    )
    // The plan this connection keeps for the statement (the plan cache its executions use).
    const plan = await keptPlan(`EXECUTE steward_orchestrator_test_lookup('{r-1,r-2}')`)
    expect(plan).toContain('runs_pkey')
    expect(plan).not.toContain('Seq Scan on runs')
  })

  it('record successes by job id, not by reading every running job of the pool', async () => {
    // Past the sixth execution: the plan kept for the connection.
    for (let i = 0; i < 7; i++) {
      const job = await heldJob('w-plan')
      expect(await succeedJobs(pool, 'w-plan', [{ job, output: null, durationMs: 1 }])).toHaveProperty(
        'size',
        1,
      )
    }
    await expectLookupById(
      `EXECUTE "steward_orchestrator_succeedAlone"('{j-1}', 'w', '{1}', '{null}', '{1}')`,
    )
  })

  it('renew leases by job id, not by reading every running job', async () => {
    const jobs = [await heldJob('w-renew')]
    // Past the sixth execution: the plan kept for the connection.
    for (let i = 0; i < 7; i++) expect((await renewLeases(pool, 'w-renew', 30_000, jobs)).size).toBe(1)
    await expectLookupById(`EXECUTE "steward_orchestrator_renew"('w', 1000, '{j-1}', '{1}')`)
  })

  it('record a failure by job id, not by reading every running job', async () => {
    // Past the sixth execution: the plan kept for the connection.
    for (let i = 0; i < 7; i++) {
      const job = await heldJob('w-fail')
      const d = await failJob(pool, { job, workerId: 'w-fail' }, 'validation', 'bad input', 1, {
        maxBackoffMs: 1_000,
        maxReclaims: 3,
      })
      expect(d?.status).toBe('failed')
    }
    await expectLookupById(
      `EXECUTE "steward_orchestrator_fail"('j-1', 'w', 1, 'failed', 0, 'validation', 'x', false, 1, 0, 1, 'failed', NULL, 'x')`,
    )
  })
})
