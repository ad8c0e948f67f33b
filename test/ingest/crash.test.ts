// A `serve` process killed with SIGKILL while producers get 202s loses no acknowledged event:
// after a restart on the same data, every acknowledged event is in ClickHouse, once.
// This file opens chDB only at the end, on the serve process's directory (one process per dir).
import { type ChildProcess, spawn } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { chQuery, openClickHouse } from '../../src/db/clickhouse.ts'
import { createPool, type Pool } from '../../src/db/postgres.ts'
import { ADMIN_TOKEN } from '../helpers/app.ts'
import { createTestDatabaseUrl } from '../helpers/db.ts'
import { eventually, workload } from './support.ts'

const bin = join(import.meta.dirname, '..', '..', 'bin', 'steward.js')
const dataDir = mkdtempSync(join(tmpdir(), 'steward-crash-'))
const children = new Set<ChildProcess>()
let databaseUrl: string
let pool: Pool

beforeAll(async () => {
  databaseUrl = await createTestDatabaseUrl()
  pool = createPool(databaseUrl, { max: 2 })
  writeFileSync(
    join(dataDir, 'config.json'),
    JSON.stringify({ ingest: { relay: { maxBatchAgeMs: 100, pollIntervalMs: 50, claimLeaseMs: 1_000 } } }),
  )
})
afterAll(async () => {
  for (const c of children) c.kill('SIGKILL')
  await pool?.end()
})

/** Starts `steward serve --port 0` on the test database and data dir; resolves with its URL. */
async function serve(): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, [bin, 'serve', '--port', '0', '--workers', '0'], {
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      DATABASE_URL: databaseUrl,
      STEWARD_DATA_DIR: dataDir,
      STEWARD_CONFIG: join(dataDir, 'config.json'),
      STEWARD_ADMIN_TOKEN: ADMIN_TOKEN,
      HOST: '127.0.0.1',
      LOG_LEVEL: 'error',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  children.add(child)
  child.once('exit', () => children.delete(child))
  let stderr = ''
  child.stderr!.on('data', (d) => {
    stderr += d
  })
  const url = await new Promise<string>((resolve, reject) => {
    let out = ''
    child.stdout!.on('data', (d) => {
      out += d
      const m = /steward listening on (\S+)/.exec(out)
      if (m) resolve(m[1]!)
    })
    child.once('exit', (code) => reject(new Error(`serve exited (${code}) before listening: ${stderr}`)))
  })
  return { child, url }
}

const exited = (child: ChildProcess) =>
  child.exitCode !== null || child.signalCode !== null
    ? Promise.resolve()
    : new Promise<void>((r) => child.once('exit', () => r()))

it('after SIGKILL and a restart, every event acknowledged with 202 is in ClickHouse once', async () => {
  const first = await serve()
  const acked: string[] = []
  let stop = false
  const producer = async (p: number) => {
    while (!stop) {
      const events = workload(`crash-${p}`, 40).map((e) => ({ ...e, eventId: randomUUID() }))
      try {
        const res = await fetch(`${first.url}/v1/events`, {
          method: 'POST',
          headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
          body: JSON.stringify(events),
        })
        if (res.status === 202) acked.push(...events.map((e) => e.eventId))
        else await res.body?.cancel()
      } catch {
        return // the server died under us: this batch was never acknowledged
      }
    }
  }
  const producers = [1, 2, 3].map(producer)
  await eventually(
    () => Promise.resolve(acked.length),
    (n) => n >= 800,
    30_000,
  )
  first.child.kill('SIGKILL')
  stop = true
  await Promise.all(producers)
  await exited(first.child)
  expect(acked.length).toBeGreaterThanOrEqual(800)

  const second = await serve()
  // The restarted relay ships what the dead one left (its claimed batch once the lease expired).
  await eventually(
    async () =>
      (
        await pool.query<{ n: number }>(
          'SELECT count(*)::int AS n FROM telemetry_outbox WHERE event_id = ANY($1)',
          [acked],
        )
      ).rows[0]!.n,
    (n) => n === 0,
    60_000,
  )
  second.child.kill('SIGTERM')
  await exited(second.child)

  const ch = await openClickHouse({ url: undefined, path: join(dataDir, 'ch') })
  try {
    const [r] = await chQuery<{ n: number; u: number }>(
      ch.client,
      'SELECT count() AS n, uniqExact(event_id) AS u FROM events WHERE event_id IN {ids:Array(String)}',
      { ids: acked },
    )
    expect(r).toEqual({ n: acked.length, u: acked.length })
  } finally {
    await ch.close()
  }
}, 180_000)
