// A worker's slots are its running handlers: a slot frees as soon as its handler returns, and the
// next job starts while the result is still being written; never more handlers than slots.
import { describe, expect, it } from 'vitest'
import { z } from 'zod'
import type { Pool } from '../../src/db/postgres.ts'
import { createEgressPolicy } from '../../src/egress/index.ts'
import { createRun, defineHandler, handlerSet, Worker } from '../../src/orchestrator/index.ts'
import { quietLog } from '../helpers/db.ts'
import { until } from '../helpers/until.ts'
import { acmeDatabase, acmeRun, allSucceeded, deferred, fastConfig } from './helpers.ts'

const config = fastConfig()
let pool: Pool
acmeDatabase((p) => {
  pool = p
})

const started: string[] = []
/** Handlers held until the test opens their gate. */
const gates = new Map<string, Promise<void>>()
let active = 0
let mostActive = 0
const tracked = defineHandler('test.tracked', z.object({ name: z.string(), ms: z.number() }), async (i) => {
  started.push(i.name)
  active++
  mostActive = Math.max(mostActive, active)
  await new Promise((r) => setTimeout(r, i.ms))
  await gates.get(i.name)
  active--
  return { name: i.name }
})
const handlers = handlerSet(createEgressPolicy(), [tracked])
const job = (name: string, ms = 0) => acmeRun([{ key: 'x', kind: 'test.tracked', input: { name, ms } }])
const statusOf = async (runId: string) =>
  (await pool.query<{ status: string }>('SELECT status FROM runs WHERE id = $1', [runId])).rows[0]!.status
const startedJob = (name: string) => until(async () => started.includes(name), Boolean, `${name} started`)
const runStatus = (runId: string, status: string) =>
  until(
    () => statusOf(runId),
    (s) => s === status,
    `run ${runId} ${status}`,
  )
/** Runs the job `name` on a worker of one slot and returns once its result is being written,
 *  held there by another transaction that locks its run's row (until `commit`). */
async function heldInCommit(name: string) {
  const gate = deferred()
  gates.set(name, gate.promise)
  const r = await createRun(pool, config, handlers, job(name))
  const w = new Worker({ pool, config, log: quietLog, concurrency: 1, handlers })
  await w.start()
  await startedJob(name)
  const blocker = await pool.connect()
  await blocker.query('BEGIN')
  await blocker.query('SELECT 1 FROM runs WHERE id = $1 FOR UPDATE', [r.id])
  gate.resolve()
  // The success statement is now waiting for the row: its job stays running.
  await new Promise((res) => setTimeout(res, 100))
  expect(await statusOf(r.id)).toBe('running')
  return {
    w,
    runId: r.id,
    commit: async () => {
      await blocker.query('COMMIT')
      blocker.release()
    },
  }
}

describe('worker slots', () => {
  it('starts the next job while the previous result is still being written', async () => {
    const held = await heldInCommit('first')
    try {
      const second = await createRun(pool, config, handlers, job('second'))
      // One slot: the second job runs only because the first one's slot freed before its commit.
      await startedJob('second')
      expect(await statusOf(held.runId)).toBe('running')
      await held.commit()
      await runStatus(held.runId, 'succeeded')
      await runStatus(second.id, 'succeeded')
    } finally {
      await held.w.stop()
    }
  })

  it('never runs more handlers than its slots while results are being written', async () => {
    mostActive = 0
    const ids = await Promise.all(
      Array.from(
        { length: 40 },
        async (_, i) => (await createRun(pool, config, handlers, job(`n${i}`, i % 3))).id,
      ),
    )
    const w = new Worker({ pool, config, log: quietLog, concurrency: 3, handlers })
    await w.start()
    try {
      await allSucceeded(pool, ids, 'all 40 runs succeeded')
      expect(mostActive).toBe(3)
    } finally {
      await w.stop()
    }
  })

  it('waits for the results being written when it stops', async () => {
    const held = await heldInCommit('last')
    let stopped = false
    const stopping = held.w.stop().then(() => (stopped = true))
    await new Promise((res) => setTimeout(res, 200))
    expect(stopped).toBe(false)
    await held.commit()
    await stopping
    expect(await statusOf(held.runId)).toBe('succeeded')
  })
})
