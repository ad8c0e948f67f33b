// /clickhouse — what works, as ClickHouse's HTTP interface: the query in the URL, the body or
// both; `{name:Type}` values bound by the engine (hostile text stays a value); database,
// default_format and the FORMAT clause; harmless settings; HTTP compression; GET / and /ping.
import { createClient } from '@clickhouse/client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ADMIN_TOKEN, startTestSteward, type TestSteward } from '../helpers/app.ts'
import { ch, rows } from './support.ts'

let s: TestSteward
beforeAll(async () => {
  s = await startTestSteward({ listen: true })
})
afterAll(async () => {
  await s?.stop()
})

describe('the query', () => {
  it('comes from the query parameter, the body, or both (URL part first, then a newline)', async () => {
    expect((await ch(s, { url: { query: 'SELECT 1' } })).text).toBe('1\n')
    expect((await ch(s, { body: 'SELECT 2' })).text).toBe('2\n')
    const both = await ch(s, { url: { query: 'SELECT 3 AS a,' }, body: '4 AS b FORMAT JSONEachRow' })
    expect(both.text).toBe('{"a":3,"b":4}\n')
  })

  it('binds param_* values as their declared types, whatever they contain', async () => {
    const hostile = "x'); DROP TABLE events; --\\\t\n"
    const client = createClient({
      url: s.url,
      pathname: '/clickhouse',
      username: 'steward',
      password: ADMIN_TOKEN,
    })
    try {
      const rs = await client.query({
        query:
          'SELECT {s:String} AS s, {n:Nullable(UInt8)} AS n, {a:Array(UInt16)} AS a, {d:DateTime} AS d, dummy FROM system.{t:Identifier}',
        query_params: { s: hostile, n: null, a: [1, 2], d: '2026-03-01 10:00:00', t: 'one' },
        format: 'JSONEachRow',
      })
      expect(await rs.json()).toEqual([
        { s: hostile, n: null, a: [1, 2], d: '2026-03-01 10:00:00', dummy: 0 },
      ])
    } finally {
      await client.close()
    }
    expect(await rows(s, "SELECT count() > 0 AS kept FROM system.tables WHERE name = 'events'")).toEqual([
      { kept: 1 },
    ])
  })

  it('a placeholder without its value, or a value that is not of its type, is ClickHouse’s error', async () => {
    expect((await ch(s, { body: 'SELECT {x:UInt8}' })).code).toBe(456)
    expect((await ch(s, { body: 'SELECT {x:UInt8}', url: { param_x: 'abc' } })).code).toBe(457)
  })

  it('an empty query is a SYNTAX_ERROR; a syntax error names the position', async () => {
    expect((await ch(s, { body: '', method: 'POST' })).code).toBe(62)
    const a = await ch(s, { body: 'SELEKT 1' })
    expect([a.code, a.status]).toEqual([62, 400])
    expect(a.text).toMatch(/^Code: 62\. DB::Exception: Syntax error: failed at position \d+/)
    expect(a.text).not.toContain('formatQuerySingleLine')
  })
})

describe('where and how', () => {
  it('database chooses the current database; an unknown one is UNKNOWN_DATABASE (404)', async () => {
    expect(await rows(s, 'SELECT currentDatabase() AS db', { database: 'system' })).toEqual([
      { db: 'system' },
    ])
    const a = await ch(s, { body: 'SELECT 1', url: { database: 'nowhere' } })
    expect([a.code, a.status]).toEqual([81, 404])
  })

  it('default_format applies unless the query names its FORMAT; the response says which', async () => {
    const d = await ch(s, { body: 'SELECT 1 AS x', url: { default_format: 'JSONCompactEachRow' } })
    expect([d.text, d.headers.get('x-clickhouse-format')]).toEqual(['[1]\n', 'JSONCompactEachRow'])
    const f = await ch(s, { body: 'SELECT 1 AS x FORMAT CSVWithNames', url: { default_format: 'JSON' } })
    expect([f.text, f.headers.get('content-type')]).toEqual([
      '"x"\n1\n',
      'text/csv; charset=UTF-8; header=absent',
    ])
  })

  it('applies allowed settings from the URL and from the query', async () => {
    const url = { session_timezone: 'Asia/Tokyo', output_format_json_quote_64bit_integers: '1' }
    expect(await rows(s, 'SELECT timezone() AS tz, toUInt64(5) AS n', url)).toEqual([
      { tz: 'Asia/Tokyo', n: '5' },
    ])
    expect(await rows(s, 'SELECT number FROM numbers(10)', { limit: '2' })).toEqual([
      { number: 0 },
      { number: 1 },
    ])
  })

  it('compresses the response when asked with enable_http_compression=1 (the client decodes it)', async () => {
    const raw = await ch(s, {
      body: 'SELECT 1',
      url: { enable_http_compression: '1' },
      headers: { 'accept-encoding': 'gzip' },
    })
    expect(raw.headers.get('content-encoding')).toBe('gzip')
    const client = createClient({
      url: s.url,
      pathname: '/clickhouse',
      username: 'steward',
      password: ADMIN_TOKEN,
      compression: { response: true },
    })
    try {
      const rs = await client.query({ query: 'SELECT number FROM numbers(3)', format: 'JSONEachRow' })
      expect(await rs.json()).toEqual([{ number: 0 }, { number: 1 }, { number: 2 }])
    } finally {
      await client.close()
    }
  })

  it('answers GET without a query and /ping with Ok., as ClickHouse does', async () => {
    expect((await ch(s, { auth: null })).text).toBe('Ok.\n')
    const ping = await s.fetch(new Request('http://steward.test/clickhouse/ping'))
    expect([ping.status, await ping.text()]).toEqual([200, 'Ok.\n'])
    const client = createClient({
      url: s.url,
      pathname: '/clickhouse',
      username: 'steward',
      password: ADMIN_TOKEN,
    })
    expect((await client.ping()).success).toBe(true)
    await client.close()
  })

  it('serves SHOW, DESCRIBE, EXPLAIN and WITH', async () => {
    expect((await rows(s, 'SHOW TABLES')).map((r) => r.name)).toContain('events')
    expect((await rows(s, 'DESCRIBE TABLE events')).map((r) => r.name)).toContain('event_id')
    expect((await rows(s, 'EXPLAIN SELECT 1')).length).toBeGreaterThan(0)
    expect(await rows(s, 'WITH 2 AS x SELECT x * 3 AS y')).toEqual([{ y: 6 }])
  })
})
