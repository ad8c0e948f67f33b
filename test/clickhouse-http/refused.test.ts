// /clickhouse — what is refused, with ClickHouse's codes and statuses: anything but SELECT, SHOW,
// DESCRIBE, EXPLAIN and WITH; several statements; INTO OUTFILE and file(); settings outside the
// allowlist (in the URL or in the query); limits above the configured ones. The configured time and
// size limits trip with ClickHouse's errors. A refused statement changes nothing.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { clickhouseHttpConfigSchema } from '../../src/clickhouse-http/config.ts'
import { planSettings } from '../../src/clickhouse-http/settings.ts'
import { openEmbeddedSession } from '../../src/db/clickhouse.ts'
import { startTestSteward, type TestSteward } from '../helpers/app.ts'
import { testClickHouseDir } from '../helpers/db.ts'
import { ch, rows } from './support.ts'

const LIMITS = { maxExecutionTimeSeconds: 1, maxResultRows: 1000, maxResultBytes: 1024 * 1024 }
let s: TestSteward
const guardedRows = async () => Number((await rows(s, 'SELECT count() AS n FROM guarded'))[0]!.n)
const tableCount = async () => Number((await rows(s, 'SELECT count() AS n FROM system.tables'))[0]!.n)
beforeAll(async () => {
  s = await startTestSteward({ file: { clickhouse: { http: clickhouseHttpConfigSchema.parse(LIMITS) } } })
  // A table of its own: Steward's heartbeats keep adding events while the tests run.
  await s.deps.clickhouse!.command({ query: 'CREATE TABLE guarded (a UInt8) ENGINE = MergeTree ORDER BY a' })
  await s.deps.clickhouse!.command({ query: 'INSERT INTO guarded VALUES (1)' })
})
afterAll(async () => {
  await s?.stop()
})

describe('statements other than reads', () => {
  it.each([
    ['INSERT INTO guarded VALUES (2)'],
    ['ALTER TABLE guarded DELETE WHERE 1'],
    ['CREATE TABLE stolen (a UInt8) ENGINE = Memory'],
    ['DROP TABLE guarded'],
    ['TRUNCATE TABLE guarded'],
    ['SYSTEM DROP MARK CACHE'],
    ['OPTIMIZE TABLE guarded FINAL'],
    ['SET readonly = 0'],
    ['KILL QUERY WHERE 1'],
    ['EXISTS TABLE guarded'],
  ])('%s: READONLY (164, 500), and nothing changed', async (statement) => {
    const before = [await guardedRows(), await tableCount()]
    const a = await ch(s, { body: statement })
    expect([a.code, a.status]).toEqual([164, 500])
    expect(a.text).toMatch(/^Code: 164\. DB::Exception: .*readonly mode.*\(READONLY\) \(version [\d.]+\)\n$/)
    expect([await guardedRows(), await tableCount()]).toEqual(before)
  })

  it('several statements: SYNTAX_ERROR (62, 400) before any runs', async () => {
    for (const body of ['SELECT 1; DROP TABLE guarded', "SELECT 'a;b'; INSERT INTO guarded VALUES (3)"]) {
      const a = await ch(s, { body })
      expect([a.code, a.status]).toEqual([62, 400])
      expect(a.text).toContain('Multi-statements are not allowed')
    }
    expect(await guardedRows()).toBe(1)
  })

  it('a statement hidden after a comment or inside a string is not a second statement', async () => {
    expect(await rows(s, "SELECT 'x; DROP TABLE guarded' AS s -- ; DROP TABLE guarded")).toEqual([
      { s: 'x; DROP TABLE guarded' },
    ])
    expect(await guardedRows()).toBe(1)
  })

  it('INTO OUTFILE: INTO_OUTFILE_NOT_ALLOWED (358), no file written', async () => {
    const file = `${testClickHouseDir()}/outfile.tsv`
    const a = await ch(s, { body: `SELECT 1 INTO OUTFILE '${file}'` })
    expect(a.code).toBe(358)
    const { existsSync } = await import('node:fs')
    expect(existsSync(file)).toBe(false)
  })

  it('file() and table functions that reach outside: FUNCTION_NOT_ALLOWED (446) or READONLY (164)', async () => {
    expect((await ch(s, { body: "SELECT file('/etc/hostname')" })).code).toBe(446)
    expect((await ch(s, { body: "SELECT * FROM file('/etc/hostname', 'LineAsString')" })).code).toBe(446)
    expect((await ch(s, { body: "SELECT * FROM url('http://127.0.0.1:9/x', 'LineAsString')" })).code).toBe(
      164,
    )
    expect((await ch(s, { body: "SELECT * FROM remote('127.0.0.1:9', system.one)" })).code).toBe(164)
  })
})

describe('settings', () => {
  it('a known setting outside the allowlist: SETTING_CONSTRAINT_VIOLATION (452); an unknown one: UNKNOWN_SETTING (115, 404)', async () => {
    expect((await ch(s, { body: 'SELECT 1', url: { max_threads: '64' } })).code).toBe(452)
    expect((await ch(s, { body: 'SELECT 1', url: { allow_ddl: '1' } })).code).toBe(452)
    const unknown = await ch(s, { body: 'SELECT 1', url: { no_such_setting: '1' } })
    expect([unknown.code, unknown.status]).toEqual([115, 404])
  })

  it('the same in the query text: its SETTINGS go through the allowlist too', async () => {
    expect((await ch(s, { body: 'SELECT 1 SETTINGS max_threads = 64' })).code).toBe(452)
    expect((await ch(s, { body: 'SELECT 1 SETTINGS max_execution_time = 0' })).code).toBe(452)
    expect(await rows(s, "SELECT getSetting('join_use_nulls') AS j SETTINGS join_use_nulls = 1")).toEqual([
      { j: true },
    ])
  })

  it('nor in a subquery, where readonly = 0 would re-enable table functions', async () => {
    const url =
      "SELECT * FROM (SELECT * FROM url('http://127.0.0.1:9/', 'LineAsString') SETTINGS readonly = 0)"
    expect((await ch(s, { body: url })).code).toBe(164)
    expect((await ch(s, { body: 'SELECT * FROM (SELECT 1 SETTINGS readonly = 2)' })).code).toBe(164)
    expect((await ch(s, { body: 'SELECT * FROM (SELECT 1 SETTINGS max_threads = 64)' })).code).toBe(452)
    expect(await rows(s, 'SELECT * FROM (SELECT 1 AS one SETTINGS join_use_nulls = 1)')).toEqual([{ one: 1 }])
  })

  it('a limit may be tightened, not loosened or lifted', async () => {
    const loosen = await ch(s, { body: 'SELECT 1', url: { max_execution_time: '3600' } })
    expect(loosen.code).toBe(452)
    expect(loosen.text).toContain("Setting max_execution_time shouldn't be greater than 1")
    expect((await ch(s, { body: 'SELECT 1', url: { max_result_rows: '0' } })).code).toBe(452)
    const tight = await ch(s, { body: 'SELECT number FROM numbers(20)', url: { max_result_rows: '10' } })
    expect(tight.code).toBe(396)
  })

  it('a malformed value: BAD_ARGUMENTS (36, 400); readonly=0: READONLY', async () => {
    const bad = await ch(s, { body: 'SELECT 1', url: { limit: '1; DROP TABLE guarded' } })
    expect([bad.code, bad.status]).toEqual([36, 400])
    expect((await ch(s, { body: 'SELECT 1', url: { session_timezone: "UTC'; DROP" } })).code).toBe(36)
    expect((await ch(s, { body: 'SELECT 1', url: { readonly: '0' } })).code).toBe(164)
    expect(await guardedRows()).toBe(1)
  })

  it('the engine itself refuses writes in the session it runs a request in (the second guard)', async () => {
    const session = await openEmbeddedSession(testClickHouseDir())
    try {
      const plan = planSettings(new Map(), clickhouseHttpConfigSchema.parse(LIMITS))
      await session.run(plan.statements.join('; '))
      await expect(session.run('INSERT INTO guarded VALUES (4)')).rejects.toThrow(/READONLY/)
      await expect(session.run('DROP TABLE guarded')).rejects.toThrow(/READONLY/)
    } finally {
      session.close()
    }
    expect(await guardedRows()).toBe(1)
  })

  it('compress=1 (ClickHouse block compression): NOT_IMPLEMENTED (48, 501)', async () => {
    const a = await ch(s, { body: 'SELECT 1', url: { compress: '1' } })
    expect([a.code, a.status]).toEqual([48, 501])
  })
})

describe('limits', () => {
  it('a query running past maxExecutionTimeSeconds: TIMEOUT_EXCEEDED (159, 408)', async () => {
    const a = await ch(s, { body: 'SELECT count() FROM numbers(1000000000000)' })
    expect([a.code, a.status]).toEqual([159, 408])
    expect(a.text).toMatch(/^Code: 159\. DB::Exception: Timeout exceeded/)
  })

  it('a result over maxResultRows or maxResultBytes: TOO_MANY_ROWS_OR_BYTES (396, 500)', async () => {
    const manyRows = await ch(s, { body: 'SELECT number FROM numbers(5000)' })
    expect([manyRows.code, manyRows.status]).toEqual([396, 500])
    const manyBytes = await ch(s, { body: 'SELECT repeat(toString(number), 2000) FROM numbers(500)' })
    expect(manyBytes.code).toBe(396)
    expect((await rows(s, 'SELECT number FROM numbers(1000)')).length).toBe(1000)
  })

  it('a request larger than maxQueryBytes: QUERY_IS_TOO_LARGE (229, 413)', async () => {
    const a = await ch(s, { body: `SELECT '${'x'.repeat(1024 * 1024)}'` })
    expect([a.code, a.status]).toEqual([229, 413])
  })
})
