// Control actions (cancel, resume, job retry, DLQ retry), who is refused: another customer's run or
// job is a 404 decided before any lock is taken. The test holds the owner's rows locked (as the
// owner's own action would) and watches PostgreSQL for a backend waiting on that lock while the
// other customer's request is in flight: a request that locked before checking would wait there.
import { describe, expect, it } from 'vitest'
import { createEgressPolicy } from '../../../src/egress/index.ts'
import { handlerSet, Worker } from '../../../src/orchestrator/index.ts'
import type { TestSteward } from '../../helpers/app.ts'
import { quietLog } from '../../helpers/db.ts'
import { fastConfig, run, step, submit, waitForRun } from '../helpers.ts'
import { quietSteward } from './support.ts'

const tenants = quietSteward()

/** A failed run of `customerId` whose only job is dead-lettered (an agent failure, no fallback). */
async function failedRun(s: TestSteward, customerId: string, token: string) {
  const id = await submit(
    s,
    run([{ key: 'x', kind: 'simulate', input: { failTimes: 1, failWith: 'agent' } }], { customerId }),
    token,
  )
  const worker = new Worker({
    pool: s.deps.pool,
    config: fastConfig(),
    log: quietLog,
    handlers: handlerSet(createEgressPolicy()),
  })
  await worker.start()
  try {
    const r = await waitForRun(s, id)
    expect(r.status).toBe('failed')
    expect(step(r, 'x').status).toBe('dead')
    return { runId: id, jobId: step(r, 'x').jobId as string }
  } finally {
    await worker.stop(0)
  }
}

/** Everything stored about a run: its row, its jobs, their attempts and its telemetry. */
async function snapshot(s: TestSteward, runId: string) {
  const q = (sql: string) => s.deps.pool.query(sql, [runId]).then((r) => r.rows)
  return {
    run: await q(`SELECT * FROM runs WHERE id = $1`),
    jobs: await q(`SELECT * FROM jobs WHERE run_id = $1 ORDER BY id`),
    attempts: await q(
      `SELECT * FROM job_attempts WHERE job_id IN (SELECT id FROM jobs WHERE run_id = $1) ORDER BY job_id, attempt`,
    ),
    events: await q(`SELECT seq FROM telemetry_outbox WHERE body->>'runId' = $1 ORDER BY seq`),
  }
}

/**
 * The request's status once answered, or 'waiting' as soon as a backend waits for a lock that
 * `holderPid` holds while the request is in flight.
 */
async function answeredOrWaiting(
  s: TestSteward,
  request: Promise<Response>,
  holderPid: number,
): Promise<number | 'waiting'> {
  let answered = false
  const status = request.then((r) => {
    answered = true
    return r.status
  })
  const waiter = async (): Promise<'waiting' | undefined> => {
    const blocked = `SELECT count(*)::int AS n FROM pg_stat_activity WHERE $1 = ANY (pg_blocking_pids(pid))`
    while (!answered) {
      if ((await s.deps.pool.query(blocked, [holderPid])).rows[0].n > 0) return 'waiting'
      await new Promise((r) => setTimeout(r, 5))
    }
  }
  return Promise.race<number | 'waiting'>([
    status,
    waiter().then((w): Promise<number | 'waiting'> | 'waiting' => w ?? status),
  ])
}

describe('who is refused: control actions on another customer’s run', () => {
  it('answer 404 without taking a lock on its rows, and change nothing of it', async () => {
    const { s, acme, globex } = tenants()
    const { runId, jobId } = await failedRun(s, 'globex', globex)
    const before = await snapshot(s, runId)
    // The owner's rows, locked as the owner's own action locks them (jobs, then the run).
    const holder = await s.deps.pool.connect()
    try {
      await holder.query('BEGIN')
      await holder.query(`SELECT id FROM jobs WHERE run_id = $1 ORDER BY id FOR UPDATE`, [runId])
      await holder.query(`SELECT id FROM runs WHERE id = $1 FOR UPDATE`, [runId])
      const pid = (await holder.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid

      for (const path of [
        `/v1/runs/${runId}/cancel`,
        `/v1/runs/${runId}/resume`,
        `/v1/jobs/${jobId}/retry`,
        `/v1/dlq/${jobId}/retry`,
      ])
        expect(await answeredOrWaiting(s, s.api('POST', path, undefined, acme), pid), path).toBe(404)
      expect(await snapshot(s, runId)).toEqual(before)

      // The observation can see a lock: the owner's own action waits for the one held here.
      const own = s.api('POST', `/v1/dlq/${jobId}/retry`, undefined, globex)
      expect(await answeredOrWaiting(s, own, pid)).toBe('waiting')
      await holder.query('ROLLBACK')
      expect((await own).status).toBe(200)
    } finally {
      await holder.query('ROLLBACK').catch(() => {})
      holder.release()
    }
  })
})
