// Grafana's view through /clickhouse: every dashboard panel query, expanded as the plugin expands
// it, returns over HTTP (a real @clickhouse/client against a listening Steward) the same figures
// as the in-process path; sent as clickhouse-go sends it (default_format=Native,
// client_protocol_version=54460, basic auth in the URL, Accept-Encoding: gzip) it returns the
// engine's own Native result, framed for that revision.
import { type ClickHouseClient, createClient } from '@clickhouse/client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { clickHousePanels, DASHBOARDS } from '../../src/dashboards/index.ts'
import { type EmbeddedSession, openEmbeddedSession } from '../../src/db/clickhouse.ts'
import { expandClickHouseSql } from '../dashboards/expand.ts'
import { ALL_VARIABLES, HOUR, runPanelSql, seedWorkload } from '../dashboards/harness.ts'
import { FROM, PRICES, TO } from '../dashboards/workload.ts'
import { ADMIN_TOKEN, startTestSteward, type TestSteward } from '../helpers/app.ts'
import { testClickHouseDir } from '../helpers/db.ts'
import { decodeNative } from './native-decoder.ts'

let s: TestSteward
let http: ClickHouseClient
let engine: EmbeddedSession
beforeAll(async () => {
  s = await startTestSteward({ listen: true, file: { prices: PRICES } })
  await seedWorkload(s.deps.clickhouse!)
  http = createClient({
    url: s.url,
    pathname: '/clickhouse',
    username: 'steward',
    password: ADMIN_TOKEN,
    // What Steward's own client sets, so both paths format numbers alike.
    clickhouse_settings: { output_format_json_quote_64bit_integers: 0 },
  })
  engine = await openEmbeddedSession(testClickHouseDir())
})
afterAll(async () => {
  engine?.close()
  await http?.close()
  await s?.stop()
})

const panels = Object.values(DASHBOARDS).flatMap((d) =>
  clickHousePanels(d).map(({ panel }) => [`${d.title} › ${panel.title}`, panel.sql] as const),
)
const SELECTED = {
  variables: { customer: ['acme', 'globex'], project: ['web'], run_type: ['build'], pool: ['cpu'] },
  intervalSeconds: 86_400,
}

/** The request clickhouse-go (Grafana's plugin, HTTP protocol) sends for a query. */
async function asGrafanaSends(query: string, revision = '54460') {
  const url = new URL(`${s.url}/clickhouse`)
  url.username = 'steward'
  url.password = ADMIN_TOKEN
  url.search = new URLSearchParams({
    database: 'default',
    default_format: 'Native',
    client_protocol_version: revision,
  }).toString()
  // fetch refuses credentials in the URL; Go's client turns them into this header.
  const auth = `Basic ${Buffer.from(`${url.username}:${url.password}`).toString('base64')}`
  url.username = ''
  url.password = ''
  return fetch(url, {
    method: 'POST',
    body: query,
    headers: { authorization: auth, 'accept-encoding': 'gzip', 'user-agent': 'clickhouse-go/2 grafana' },
  })
}

describe('dashboard panels over /clickhouse', () => {
  it.each(panels)('%s: the same figures as the in-process path', async (_name, sql) => {
    for (const ctx of [{}, SELECTED]) {
      const over = await runPanelSql(http, sql, ctx)
      const inProcess = await runPanelSql(s.deps.clickhouse!, sql, ctx)
      expect(over).toEqual(inProcess)
    }
  })

  it.each(panels)('%s: Native for clickhouse-go equals the engine result', async (_name, sql) => {
    const query = expandClickHouseSql(sql, {
      from: FROM,
      to: TO,
      intervalSeconds: HOUR,
      variables: ALL_VARIABLES,
    })
    const res = await asGrafanaSends(query)
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toBe('application/octet-stream')
    const body = new Uint8Array(await res.arrayBuffer())
    const own = (await engine.run(query, { format: 'Native' })).bytes
    expect(own.length).toBeGreaterThan(0)
    expect(decodeNative(body, 54460)).toEqual(decodeNative(own, 0))
  })
})

describe('what clickhouse-go asks besides panel queries', () => {
  it('answers its hello query, framed for the hard-coded revision it reads it with', async () => {
    const res = await asGrafanaSends('SELECT displayName(), version(), revision(), timezone()')
    const [block] = decodeNative(new Uint8Array(await res.arrayBuffer()), 54460)
    expect(block!.map((c) => c.type)).toEqual(['String', 'String', 'UInt32', 'String'])
    expect(block![2]!.values).toHaveLength(1)
  })

  it('answers its ping (SELECT 1) with one column named 1', async () => {
    const [block] = decodeNative(
      new Uint8Array(await (await asGrafanaSends('SELECT 1')).arrayBuffer()),
      54460,
    )
    expect(block!.map((c) => c.name)).toEqual(['1'])
  })

  it('returns the engine Native bytes exactly when no revision is named', async () => {
    const query = 'SELECT toLowCardinality(toString(number % 3)) AS lc, number FROM numbers(10)'
    const res = await asGrafanaSends(query, '0')
    expect(Buffer.from(await res.arrayBuffer())).toEqual(
      Buffer.from((await engine.run(query, { format: 'Native' })).bytes),
    )
  })
})
