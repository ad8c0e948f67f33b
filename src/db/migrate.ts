// Numbered .sql migrations for PostgreSQL (schemas/postgres) and ClickHouse (schemas/clickhouse).
//
// Guarantees:
// - files apply in numeric order, each exactly once, recorded with a SHA-256 checksum;
// - an applied migration whose file changed since is an error (MigrationError), never re-run;
// - two instances starting at once are serialised by a PostgreSQL advisory lock, so each file
//   runs once even then; a PostgreSQL migration runs in one transaction with its record;
// - ClickHouse has no transactions: its statements are written to be re-runnable
//   (IF NOT EXISTS) and the record is written after the last statement succeeded;
// - on a ClickHouse cluster the client runs each statement in its cluster form (src/db/cluster.ts,
//   see openClickHouse), so the files, and their checksums, are the same everywhere.
import { createHash } from 'node:crypto'
import { readdir, readFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Logger } from '../log.ts'
import type { ClickHouseClient } from './clickhouse.ts'
import type { Pool } from './postgres.ts'

export const schemasDir = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'schemas')
const MIGRATION_LOCK = 7_349_001 // advisory lock key: "steward migrations"

export class MigrationError extends Error {
  override name = 'MigrationError'
}

export interface Migration {
  id: string
  sql: string
  checksum: string
}

export async function loadMigrations(dir: string): Promise<Migration[]> {
  const names = (await readdir(dir)).filter((f) => /^\d+[_-].+\.sql$/.test(f))
  names.sort((a, b) => Number.parseInt(a, 10) - Number.parseInt(b, 10) || a.localeCompare(b))
  const seen = new Map<number, string>()
  const out: Migration[] = []
  for (const name of names) {
    const n = Number.parseInt(name, 10)
    const other = seen.get(n)
    if (other) throw new MigrationError(`two migrations share number ${n}: ${other} and ${name}`)
    seen.set(n, name)
    const sql = await readFile(join(dir, name), 'utf8')
    out.push({
      id: name.replace(/\.sql$/, ''),
      sql,
      checksum: createHash('sha256').update(sql).digest('hex'),
    })
  }
  return out
}

/** Splits a file into statements on semicolons that end a line (ClickHouse takes one at a time). */
export function splitStatements(sql: string): string[] {
  return sql
    .split(/;\s*$/m)
    .map((s) =>
      s
        .split('\n')
        .filter((l) => !/^\s*--/.test(l))
        .join('\n')
        .trim(),
    )
    .filter(Boolean)
}

function checkApplied(kind: string, m: Migration, applied: Map<string, string>): boolean {
  const sum = applied.get(m.id)
  if (sum === undefined) return false
  if (sum !== m.checksum) {
    throw new MigrationError(
      `${kind} migration ${m.id} was edited after it was applied (checksum ${sum.slice(0, 12)} != ${m.checksum.slice(0, 12)}); add a new migration instead`,
    )
  }
  return true
}

export interface MigrateResult {
  postgres: string[]
  clickhouse: string[]
}

export async function migrate(opts: {
  pool: Pool
  clickhouse?: ClickHouseClient
  log: Logger
  dir?: string
}): Promise<MigrateResult> {
  const dir = opts.dir ?? schemasDir
  const result: MigrateResult = { postgres: [], clickhouse: [] }
  const lockClient = await opts.pool.connect()
  try {
    // Another instance may hold the lock for as long as its migrations take: wait without a timeout.
    await lockClient.query('SET statement_timeout = 0')
    await lockClient.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK])
    await lockClient.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
      id text PRIMARY KEY, checksum text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`)
    const { rows } = await lockClient.query<{ id: string; checksum: string }>(
      'SELECT id, checksum FROM schema_migrations',
    )
    const applied = new Map(rows.map((r) => [r.id, r.checksum]))
    for (const m of await loadMigrations(join(dir, 'postgres'))) {
      if (checkApplied('PostgreSQL', m, applied)) continue
      try {
        await lockClient.query('BEGIN')
        // A migration may rewrite a large table: no statement timeout for its transaction.
        await lockClient.query('SET LOCAL statement_timeout = 0')
        await lockClient.query(m.sql)
        await lockClient.query('INSERT INTO schema_migrations (id, checksum) VALUES ($1, $2)', [
          m.id,
          m.checksum,
        ])
        await lockClient.query('COMMIT')
      } catch (err) {
        await lockClient.query('ROLLBACK').catch(() => {})
        throw new MigrationError(`PostgreSQL migration ${m.id} failed: ${(err as Error).message}`)
      }
      opts.log.info('applied migration', { engine: 'postgres', id: m.id })
      result.postgres.push(m.id)
    }
    if (opts.clickhouse)
      result.clickhouse = await migrateClickHouse(opts.clickhouse, join(dir, 'clickhouse'), opts.log)
  } finally {
    await lockClient.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]).catch(() => {})
    await lockClient.query('RESET statement_timeout').catch(() => {})
    lockClient.release()
  }
  return result
}

async function migrateClickHouse(ch: ClickHouseClient, dir: string, log: Logger): Promise<string[]> {
  await ch.command({
    query: `CREATE TABLE IF NOT EXISTS schema_migrations (id String, checksum String, applied_at DateTime64(3) DEFAULT now64(3))
            ENGINE = ReplacingMergeTree ORDER BY id`,
  })
  const rs = await ch.query({
    query: 'SELECT id, checksum FROM schema_migrations FINAL',
    format: 'JSONEachRow',
  })
  const applied = new Map((await rs.json<{ id: string; checksum: string }>()).map((r) => [r.id, r.checksum]))
  const done: string[] = []
  for (const m of await loadMigrations(dir)) {
    if (checkApplied('ClickHouse', m, applied)) continue
    for (const statement of splitStatements(m.sql)) {
      try {
        await ch.command({ query: statement })
      } catch (err) {
        throw new MigrationError(`ClickHouse migration ${m.id} failed: ${(err as Error).message}`)
      }
    }
    await ch.insert({
      table: 'schema_migrations',
      values: [{ id: m.id, checksum: m.checksum }],
      format: 'JSONEachRow',
    })
    log.info('applied migration', { engine: 'clickhouse', id: m.id })
    done.push(m.id)
  }
  return done
}
