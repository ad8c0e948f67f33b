// Two `steward serve` processes on one PostgreSQL behave as one: each scheduled tick runs once,
// both serve the API, and killing one (SIGKILL, jobs in flight) loses no run.
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { freePort } from '../../src/db/postgres.ts'
import { createTestDatabaseUrl } from '../helpers/db.ts'
import { type StewardProcess, spawnSteward, waitForStatus } from '../helpers/process.ts'

const token = 'multi-instance-admin-token-0123'
const procs: StewardProcess[] = []
let databaseUrl: string
let db: pg.Client
let a: { proc: StewardProcess; url: string }
let b: { proc: StewardProcess; url: string }

async function serve(name: string): Promise<{ proc: StewardProcess; url: string }> {
  const dataDir = mkdtempSync(join(tmpdir(), `steward-multi-${name}-`))
  const configFile = join(dataDir, 'steward.json')
  // Short leases so the survivor reclaims the victim's jobs within seconds.
  writeFileSync(
    configFile,
    JSON.stringify({ orchestrator: { leaseMs: 2_000, heartbeatMs: 500, reclaimEveryMs: 500, pollMs: 250 } }),
  )
  const port = await freePort()
  const proc = spawnSteward(['serve', '--port', String(port), '--workers', '1'], {
    DATABASE_URL: databaseUrl,
    STEWARD_DATA_DIR: dataDir,
    STEWARD_ADMIN_TOKEN: token,
    STEWARD_CONFIG: configFile,
    HOST: '127.0.0.1',
  })
  procs.push(proc)
  const url = `http://127.0.0.1:${port}`
  await waitForStatus(`${url}/readyz`, 200, 90_000).catch((err) => {
    throw new Error(`${(err as Error).message}\n--- ${name} output ---\n${proc.output()}`)
  })
  return { proc, url }
}

const call = async (url: string, method: string, path: string, body?: unknown) => {
  const res = await fetch(`${url}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  })
  return { status: res.status, body: (await res.json()) as Record<string, unknown> }
}

beforeAll(async () => {
  databaseUrl = await createTestDatabaseUrl()
  ;[a, b] = await Promise.all([serve('a'), serve('b')])
  db = new pg.Client({ connectionString: databaseUrl })
  await db.connect()
})
afterAll(async () => {
  await db?.end()
  for (const p of procs) p.child.kill('SIGKILL')
})

describe('two serve instances on one PostgreSQL', () => {
  it('runs each scheduled tick once, whichever instance claims it', async () => {
    // Both instances tried the start-up catch-up of every job; a tick has one record.
    const dupes = await db.query(
      'SELECT job, scheduled_for, count(*)::int AS n FROM scheduled_runs GROUP BY 1, 2 HAVING count(*) > 1',
    )
    expect(dupes.rows).toEqual([])
    // Wait for a minute tick that both instances' cron fired (incidents are evaluated every minute).
    await expect
      .poll(
        async () =>
          (await db.query("SELECT count(*)::int AS n FROM scheduled_runs WHERE job = 'incidents.evaluate'"))
            .rows[0].n,
        { timeout: 75_000, interval: 1_000 },
      )
      .toBeGreaterThanOrEqual(1)
    const ticks = await db.query(
      `SELECT scheduled_for, count(*)::int AS n, min(outcome) AS outcome FROM scheduled_runs
       WHERE job = 'incidents.evaluate' GROUP BY 1`,
    )
    // One record per tick; a tick still running at this moment is fine, a failed one is not.
    for (const t of ticks.rows) {
      expect(t.n).toBe(1)
      expect(t.outcome).not.toBe('failed')
    }
  })

  it('serves the API from both instances', async () => {
    expect((await call(a.url, 'POST', '/v1/customers', { id: 'shared', name: 'Shared' })).status).toBe(201)
    expect((await call(b.url, 'GET', '/v1/customers/shared')).status).toBe(200)
    expect((await call(b.url, 'POST', '/v1/customers', { id: 'shared', name: 'Again' })).status).toBe(409)
  })

  it('loses no run when one instance is killed with jobs in flight', async () => {
    const ids: string[] = []
    for (let i = 0; i < 6; i++) {
      const res = await call(a.url, 'POST', '/v1/runs', {
        customerId: 'shared',
        projectId: 'p',
        type: 'failover',
        steps: [
          { key: 'first', kind: 'sleep', input: { ms: 1_500 } },
          { key: 'second', kind: 'noop', dependsOn: ['first'] },
        ],
      })
      expect(res.status).toBe(201)
      ids.push(res.body.id as string)
    }
    // Kill A once its worker holds some of the jobs.
    await expect
      .poll(
        async () =>
          (
            await db.query(
              `SELECT count(*)::int AS n FROM jobs WHERE status = 'running' AND lease_owner LIKE $1`,
              [`%-${a.proc.child.pid}-%`],
            )
          ).rows[0].n,
        { timeout: 20_000, interval: 50 },
      )
      .toBeGreaterThan(0)
    a.proc.child.kill('SIGKILL')
    await a.proc.exited

    await expect
      .poll(
        async () => {
          const statuses = await Promise.all(
            ids.map(async (id) => (await call(b.url, 'GET', `/v1/runs/${id}`)).body.status),
          )
          return statuses.every((s) => s === 'succeeded')
        },
        { timeout: 60_000, interval: 500 },
      )
      .toBe(true)
    const reclaimed = await db.query(
      'SELECT count(*)::int AS n FROM jobs WHERE reclaims > 0 AND run_id = ANY($1)',
      [ids],
    )
    expect(reclaimed.rows[0].n).toBeGreaterThan(0)
  })
})
