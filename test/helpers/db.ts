// Real engines for tests: a fresh PostgreSQL database per call on the run's server, and chDB in a
// temp dir per test process. No mocks of our own storage.
import { randomBytes } from 'node:crypto'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pg from 'pg'
import { inject } from 'vitest'
import { type ClickHouseHandle, openClickHouse } from '../../src/db/clickhouse.ts'
import { migrate } from '../../src/db/migrate.ts'
import { createPool, type Pool } from '../../src/db/postgres.ts'
import { createLogger } from '../../src/log.ts'

export const quietLog = createLogger(process.env.TEST_LOG_LEVEL === 'debug' ? 'debug' : 'silent')

/** Creates an empty database on the test server and returns its URL. */
export async function createTestDatabaseUrl(): Promise<string> {
  const admin = inject('pgAdminUrl')
  const name = `steward_t_${randomBytes(6).toString('hex')}`
  const client = new pg.Client({ connectionString: admin })
  await client.connect()
  try {
    await client.query(`CREATE DATABASE ${name}`)
  } finally {
    await client.end()
  }
  const url = new URL(admin)
  url.pathname = `/${name}`
  return url.toString()
}

/** A pool on a fresh database with Steward's PostgreSQL migrations applied. */
export async function createTestPool(): Promise<{ pool: Pool; url: string }> {
  const url = await createTestDatabaseUrl()
  const pool = createPool(url, { max: 10 })
  await migrate({ pool, log: quietLog })
  return { pool, url }
}

let chDir: string | undefined
/** This process's chDB data dir (chDB binds one directory per process). */
export function testClickHouseDir(): string {
  chDir ??= mkdtempSync(join(tmpdir(), 'steward-test-'))
  return chDir
}

/** The embedded ClickHouse of this test process (its tables are shared by the file's tests). */
export async function openTestClickHouse(): Promise<ClickHouseHandle> {
  return openClickHouse({ url: undefined, path: testClickHouseDir() })
}
