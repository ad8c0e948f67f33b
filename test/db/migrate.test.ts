import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loadMigrations, MigrationError, migrate, splitStatements } from '../../src/db/migrate.ts'
import { createPool, type Pool } from '../../src/db/postgres.ts'
import { createTestDatabaseUrl, openTestClickHouse, quietLog } from '../helpers/db.ts'

function schemaDir(pg: Record<string, string>, ch: Record<string, string> = {}): string {
  const dir = mkdtempSync(join(tmpdir(), 'steward-mig-'))
  mkdirSync(join(dir, 'postgres'))
  mkdirSync(join(dir, 'clickhouse'))
  for (const [name, sql] of Object.entries(pg)) writeFileSync(join(dir, 'postgres', name), sql)
  for (const [name, sql] of Object.entries(ch)) writeFileSync(join(dir, 'clickhouse', name), sql)
  return dir
}

const pools: Pool[] = []
async function freshPool(): Promise<Pool> {
  const pool = createPool(await createTestDatabaseUrl(), { max: 4 })
  pools.push(pool)
  return pool
}
afterAll(async () => {
  await Promise.all(pools.map((p) => p.end()))
})

describe('PostgreSQL migrations', () => {
  it('applies files in numeric order, not lexical order', async () => {
    const pool = await freshPool()
    const dir = schemaDir({
      '10_third.sql': "INSERT INTO log VALUES ('10')",
      '2_second.sql': "INSERT INTO log VALUES ('2')",
      '1_first.sql': 'CREATE TABLE log (step text, at serial)',
    })
    const result = await migrate({ pool, log: quietLog, dir })
    expect(result.postgres).toEqual(['1_first', '2_second', '10_third'])
    const { rows } = await pool.query('SELECT step FROM log ORDER BY at')
    expect(rows.map((r) => r.step)).toEqual(['2', '10'])
  })

  it('applies each file once: a second run is a no-op', async () => {
    const pool = await freshPool()
    const dir = schemaDir({ '1_t.sql': 'CREATE TABLE t (id int)' })
    expect((await migrate({ pool, log: quietLog, dir })).postgres).toEqual(['1_t'])
    expect((await migrate({ pool, log: quietLog, dir })).postgres).toEqual([])
  })

  it('refuses to run when an applied migration was edited', async () => {
    const pool = await freshPool()
    const dir = schemaDir({ '1_t.sql': 'CREATE TABLE t (id int)' })
    await migrate({ pool, log: quietLog, dir })
    writeFileSync(join(dir, 'postgres', '1_t.sql'), 'CREATE TABLE t (id bigint)')
    writeFileSync(join(dir, 'postgres', '2_u.sql'), 'CREATE TABLE u (id int)')
    await expect(migrate({ pool, log: quietLog, dir })).rejects.toThrowError(
      /1_t was edited after it was applied/,
    )
    const { rows } = await pool.query("SELECT to_regclass('u') AS u")
    expect(rows[0].u).toBeNull()
  })

  it('rolls a failing migration back whole and records nothing', async () => {
    const pool = await freshPool()
    const dir = schemaDir({ '1_bad.sql': 'CREATE TABLE half (id int); SELECT no_such_function();' })
    await expect(migrate({ pool, log: quietLog, dir })).rejects.toThrowError(MigrationError)
    const { rows } = await pool.query(
      "SELECT to_regclass('half') AS t, (SELECT count(*) FROM schema_migrations) AS n",
    )
    expect(rows[0]).toEqual({ t: null, n: 0 })
  })

  it('applies each file once when two instances migrate at the same time', async () => {
    const pool = await freshPool()
    const dir = schemaDir({
      '1_t.sql': 'CREATE TABLE t (id int)',
      '2_seed.sql': 'INSERT INTO t SELECT generate_series(1, 10)',
    })
    const [a, b] = await Promise.all([
      migrate({ pool, log: quietLog, dir }),
      migrate({ pool, log: quietLog, dir }),
    ])
    expect([...a.postgres, ...b.postgres].sort()).toEqual(['1_t', '2_seed'])
    expect((await pool.query('SELECT count(*)::int AS n FROM t')).rows[0].n).toBe(10)
  })

  it('refuses two files with the same number', async () => {
    const dir = schemaDir({ '1_a.sql': 'SELECT 1', '001_b.sql': 'SELECT 2' })
    await expect(loadMigrations(join(dir, 'postgres'))).rejects.toThrowError(/share number 1/)
  })

  it("applies Steward's own migrations on an empty database", async () => {
    const pool = await freshPool()
    const result = await migrate({ pool, log: quietLog })
    expect(result.postgres[0]).toBe('001_foundation')
    expect((await pool.query("SELECT to_regclass('customers') AS t")).rows[0].t).toBe('customers')
  })
})

describe('ClickHouse migrations', () => {
  let ch: Awaited<ReturnType<typeof openTestClickHouse>>
  beforeAll(async () => {
    ch = await openTestClickHouse()
  })
  afterAll(async () => {
    await ch?.close()
  })

  it('splits a file into statements on semicolons that end a line', () => {
    expect(
      splitStatements("-- c\nCREATE TABLE a (s String DEFAULT ';');\n\nCREATE TABLE b (x UInt8);\n"),
    ).toEqual(["CREATE TABLE a (s String DEFAULT ';')", 'CREATE TABLE b (x UInt8)'])
  })

  it('applies ClickHouse files once and records them in ClickHouse', async () => {
    const pool = await freshPool()
    const dir = schemaDir(
      {},
      {
        '1_a.sql':
          'CREATE TABLE IF NOT EXISTS mig_a (x UInt8) ENGINE = MergeTree ORDER BY x;\nINSERT INTO mig_a VALUES (1);',
      },
    )
    expect((await migrate({ pool, clickhouse: ch.client, log: quietLog, dir })).clickhouse).toEqual(['1_a'])
    expect((await migrate({ pool, clickhouse: ch.client, log: quietLog, dir })).clickhouse).toEqual([])
    const rs = await ch.client.query({ query: 'SELECT count() AS n FROM mig_a', format: 'JSONEachRow' })
    expect(Number((await rs.json<{ n: number }>())[0]!.n)).toBe(1)
    writeFileSync(join(dir, 'clickhouse', '1_a.sql'), 'SELECT 1;')
    await expect(migrate({ pool, clickhouse: ch.client, log: quietLog, dir })).rejects.toThrowError(/edited/)
  })
})
