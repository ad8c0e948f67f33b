// Graceful shutdown and a bounded PostgreSQL pool: a stopping instance fails readiness first, lets
// in-flight requests finish within a deadline and then cuts them; the pool is sized for the
// in-process workers so none of them can take every connection, and every wait is bounded.
import { request } from 'node:http'
import { describe, expect, it } from 'vitest'
import { createPool } from '../../src/db/postgres.ts'
import { loadConfig } from '../../src/server/index.ts'
import { poolSize } from '../../src/server/start.ts'
import { ADMIN_TOKEN, startTestSteward } from '../helpers/app.ts'
import { createTestPool } from '../helpers/db.ts'

/** Starts a POST whose body never completes; resolves when the server closed the connection. */
function hangingRequest(url: string): { closed: Promise<number> } {
  const started = Date.now()
  const req = request(`${url}/v1/events`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${ADMIN_TOKEN}`,
      'content-type': 'application/json',
      'content-length': '100000',
    },
  })
  req.write('[')
  const closed = new Promise<number>((resolve) => {
    req.on('error', () => resolve(Date.now() - started))
    req.on('close', () => resolve(Date.now() - started))
  })
  return { closed }
}

describe('graceful shutdown', () => {
  it('fails readiness at once while still serving during the drain', async () => {
    const s = await startTestSteward({
      listen: true,
      file: { server: { readinessDrainMs: 5_000, shutdownDeadlineMs: 1_000 } },
    })
    expect((await fetch(`${s.url}/readyz`)).status).toBe(200)
    const stopped = s.stop()
    await new Promise((r) => setTimeout(r, 200))
    const ready = await fetch(`${s.url}/readyz`)
    expect(ready.status).toBe(503)
    expect(await ready.json()).toMatchObject({ reason: 'shutting down' })
    // Still answering the API while load balancers notice.
    const api = await fetch(`${s.url}/v1/customers`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })
    expect(api.status).toBe(200)
    await stopped
  })

  it('cuts requests still in flight at the deadline, and stops', async () => {
    const s = await startTestSteward({ listen: true, file: { server: { shutdownDeadlineMs: 800 } } })
    const hanging = hangingRequest(s.url)
    await new Promise((r) => setTimeout(r, 200))
    const t0 = Date.now()
    await s.stop()
    const cutAfter = await hanging.closed
    // Closed by the deadline, not left open until the client gives up.
    expect(cutAfter).toBeGreaterThanOrEqual(800)
    expect(Date.now() - t0).toBeLessThan(20_000)
  })
})

describe('the PostgreSQL pool', () => {
  it("is sized from the in-process workers' connections plus the API's share", () => {
    const config = loadConfig({}, { orchestrator: { workers: 20, concurrency: 4 } })
    expect(poolSize(config)).toBe(20 * 5 + 10)
    expect(poolSize(loadConfig({}, { postgres: { poolMax: 33 } }))).toBe(33)
  })

  it('starts and serves with 20 in-process workers (their LISTEN connections do not take the pool)', async () => {
    const s = await startTestSteward({
      file: { orchestrator: { workers: 20, concurrency: 1, pollMs: 200 } },
    })
    try {
      expect((await s.api('POST', '/v1/customers', { id: 'many', name: 'Many' })).status).toBe(201)
      const run = await s.api('POST', '/v1/runs', {
        customerId: 'many',
        projectId: 'p',
        type: 't',
        steps: [{ key: 'a', kind: 'noop' }],
      })
      expect(run.status).toBe(201)
      const { id } = (await run.json()) as { id: string }
      for (let i = 0; i < 100; i++) {
        const r = (await (await s.api('GET', `/v1/runs/${id}`)).json()) as { status: string }
        if (r.status === 'succeeded') return
        await new Promise((res) => setTimeout(res, 100))
      }
      throw new Error('the run did not finish')
    } finally {
      await s.stop()
    }
  })

  it('bounds a statement and the wait for a connection', async () => {
    const { url, pool: setup } = await createTestPool()
    await setup.end()
    // Connecting (SCRAM) on a loaded machine may take a while: the connect bound stays generous.
    const pool = createPool(url, { max: 1, limits: { connectTimeoutMs: 3_000, statementTimeoutMs: 300 } })
    try {
      await expect(pool.query('SELECT pg_sleep(2)')).rejects.toMatchObject({ code: '57014' })
      const held = await pool.connect()
      const t0 = Date.now()
      await expect(pool.query('SELECT 1')).rejects.toThrow(/timeout/i)
      expect(Date.now() - t0).toBeGreaterThanOrEqual(2_900)
      expect(Date.now() - t0).toBeLessThan(15_000)
      held.release()
      expect((await pool.query('SELECT 1 AS n')).rows[0].n).toBe(1)
    } finally {
      await pool.end()
    }
  })
})
