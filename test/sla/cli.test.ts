// `steward report sla-credits` as operators run it: with no serve answering, it opens the engines
// itself (PostgreSQL at DATABASE_URL, its own embedded ClickHouse) and prints the report.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Pool } from '../../src/db/postgres.ts'
import { freePort } from '../../src/db/postgres.ts'
import { createTestPool } from '../helpers/db.ts'
import { spawnSteward } from '../helpers/process.ts'

let pool: Pool
let url: string
let env: Record<string, string>
beforeAll(async () => {
  ;({ pool, url } = await createTestPool())
  await pool.query(`INSERT INTO customers (id, name, created_at) VALUES ('acme', 'Acme', '2025-01-01')`)
  env = {
    DATABASE_URL: url,
    STEWARD_DATA_DIR: mkdtempSync(join(tmpdir(), 'sla-cli-data-')),
    // Nothing listens there: the command must not wait for a serve.
    STEWARD_URL: `http://127.0.0.1:${await freePort()}`,
    STEWARD_ADMIN_TOKEN: 'cli-test-admin-token-0123456789',
  }
})
afterAll(async () => {
  await pool?.end()
  if (env?.STEWARD_DATA_DIR) rmSync(env.STEWARD_DATA_DIR, { recursive: true, force: true })
})

describe('steward report sla-credits', () => {
  it('opens the engines itself when no serve answers and writes the CSV', async () => {
    const out = join(env.STEWARD_DATA_DIR!, 'credits.csv')
    const p = spawnSteward(
      ['report', 'sla-credits', '--month', '2025-09', '--format', 'csv', '--out', out],
      env,
    )
    expect(await p.exited).toBe(0)
    const lines = readFileSync(out, 'utf8').trim().split('\r\n')
    expect(lines[0]).toMatch(/^customer_id,month,status,plan_version,uptime_percent,/)
    // No telemetry and no witness at all: the factory never served, so nothing of that month is in
    // service and nothing is down (a silent month is never a credit).
    expect(lines[1]).toMatch(/^acme,2025-09,provisional,0,100,99\.9,0,0,0,/)
  })

  it('refuses a bad month with a message and exit code 2', async () => {
    const p = spawnSteward(['report', 'sla-credits', '--month', '2025-13'], env)
    expect(await p.exited).toBe(2)
    expect(p.output()).toMatch(/--month must be YYYY-MM/)
  })
})
