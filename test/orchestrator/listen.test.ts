// A worker's LISTEN connection: when PostgreSQL kills it (restart, admin, network), the broken
// client goes back to the pool to be closed, and the worker LISTENs again, so NOTIFY wake-ups keep
// arriving; pollMs is a minute here, so a job started within seconds was woken by NOTIFY.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Pool } from '../../src/db/postgres.ts'
import { createEgressPolicy } from '../../src/egress/index.ts'
import { createRun, handlerSet, Worker } from '../../src/orchestrator/index.ts'
import { createTestPool, quietLog } from '../helpers/db.ts'
import { acmeRun, fastConfig } from './helpers.ts'

const config = fastConfig({ pollMs: 60_000 })
const handlers = handlerSet(createEgressPolicy())
let pool: Pool
let admin: Pool
const workers: Worker[] = []

beforeAll(async () => {
  ;({ pool } = await createTestPool())
  // A separate pool for the test's own queries: the worker's pool is the one checked for leaks.
  admin = (await createTestPool()).pool
  await pool.query(`INSERT INTO customers (id, name) VALUES ('acme', 'Acme')`)
})
afterAll(async () => {
  for (const w of workers) await w.stop(0)
  await pool?.end()
  await admin?.end()
})

const oneNoop = () => createRun(pool, config, handlers, acmeRun([{ key: 'x', kind: 'noop' }]))

/** The backend pids LISTENing on the worker's database. */
async function listeners(): Promise<number[]> {
  const db = (await pool.query(`SELECT current_database() AS db`)).rows[0].db
  const { rows } = await admin.query(
    `SELECT pid FROM pg_stat_activity WHERE datname = $1 AND query LIKE 'LISTEN%' ORDER BY pid`,
    [db],
  )
  return rows.map((r) => r.pid as number)
}

async function killListeners(): Promise<number> {
  const pids = await listeners()
  await admin.query(`SELECT pg_terminate_backend(p) FROM unnest($1::int[]) AS p`, [pids])
  return pids.length
}

async function waitFor<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 15_000): Promise<T> {
  const until = Date.now() + timeoutMs
  for (;;) {
    const v = await check()
    if (v !== undefined) return v
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

/** Creates a run of one noop and returns ms from creation to its job's start. */
async function startDelay(): Promise<number> {
  const { id } = await oneNoop()
  return waitFor(`run ${id} to start`, async () => {
    const { rows } = await pool.query(
      `SELECT extract(epoch FROM j.started_at - r.created_at)::float8 * 1000 AS ms
       FROM jobs j JOIN runs r ON r.id = j.run_id WHERE r.id = $1 AND j.status = 'succeeded'`,
      [id],
    )
    return rows[0]?.ms as number | undefined
  })
}

/** A leaked client stays checked out for good; a released one goes within moments. */
const noneCheckedOut = () =>
  waitFor('no client checked out', async () => (pool.totalCount === pool.idleCount ? true : undefined), 5_000)

async function idleWorker(): Promise<Worker> {
  const w = new Worker({ pool, config, log: quietLog, handlers })
  workers.push(w)
  await w.start()
  await waitFor('the worker to LISTEN', async () => ((await listeners()).length === 1 ? true : undefined))
  return w
}

describe('a worker whose LISTEN connection was killed', () => {
  it('releases the broken client and is woken by NOTIFY again once it re-LISTENs', async () => {
    const w = await idleWorker()
    // Woken by NOTIFY: well under the minute-long poll.
    expect(await startDelay()).toBeLessThan(10_000)

    const [before] = await listeners()
    expect(await killListeners()).toBe(1)
    const after = await waitFor('a new LISTEN connection', async () => {
      const pids = await listeners()
      return pids.length === 1 && pids[0] !== before ? pids[0] : undefined
    })
    expect(after).not.toBe(before)
    // The dead client left the pool: every client it holds is idle, but the new listener.
    await waitFor('no client checked out but the listener', async () =>
      pool.totalCount - pool.idleCount === 1 ? true : undefined,
    )

    for (let i = 0; i < 3; i++) expect(await startDelay()).toBeLessThan(10_000)

    const t0 = Date.now()
    await w.stop(1_000)
    expect(Date.now() - t0).toBeLessThan(5_000)
    // The server ends the closed connection's backend once it reads the close: not at once.
    await waitFor('the LISTEN backend to end', async () =>
      (await listeners()).length === 0 ? true : undefined,
    )
    expect(await listeners()).toEqual([])
    await noneCheckedOut()
  })

  it('stops promptly while its LISTEN connection is dead, leaving no client checked out', async () => {
    const w = await idleWorker()
    expect(await killListeners()).toBe(1)
    const t0 = Date.now()
    await w.stop(1_000)
    expect(Date.now() - t0).toBeLessThan(5_000)
    // No re-LISTEN after stop: nothing checked out, nobody listening.
    await new Promise((r) => setTimeout(r, 1_000))
    expect(await listeners()).toEqual([])
    await noneCheckedOut()
  })
})
