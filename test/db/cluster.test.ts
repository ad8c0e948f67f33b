// The cluster form of Steward's ClickHouse DDL (src/db/cluster.ts). No cluster runs here, so every
// rewritten statement is parsed by the engine (EXPLAIN AST on chDB) and every table setting it
// names is looked up in system.merge_tree_settings (EXPLAIN AST alone accepts a bogus setting).
// A ClickHouse HTTP stand-in on loopback records what `steward migrate` sends on a cluster.
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type EmbeddedSession, openClickHouse, openEmbeddedSession } from '../../src/db/clickhouse.ts'
import { ClusterDdlError, clusterStatements } from '../../src/db/cluster.ts'
import { loadMigrations, migrate, schemasDir, splitStatements } from '../../src/db/migrate.ts'
import { loadConfig } from '../../src/server/index.ts'
import { createTestPool, quietLog, testClickHouseDir } from '../helpers/db.ts'

const CLUSTER = 'steward'
// Statements of Steward's code that change tables at run time (raw TTL, price list sync).
const RUNTIME = [
  'ALTER TABLE events MODIFY TTL toDateTime(ts) + toIntervalDay(30)',
  'ALTER TABLE events REMOVE TTL',
  "DELETE FROM prices WHERE updated_at < {at:DateTime64(3, 'UTC')}",
  'ALTER TABLE otel_logs MODIFY TTL TimestampTime + toIntervalDay(30)',
]

let engine: EmbeddedSession
let migrationStatements: string[]
let fileCount: number
beforeAll(async () => {
  engine = await openEmbeddedSession(testClickHouseDir())
  const files = await loadMigrations(join(schemasDir, 'clickhouse'))
  fileCount = files.length
  migrationStatements = files.flatMap((m) => splitStatements(m.sql))
})
afterAll(() => engine?.close())

const text = async (sql: string, params?: Record<string, string>) =>
  Buffer.from((await engine.run(sql, { format: 'TSVRaw', params })).bytes).toString()

/** Setting names of SETTINGS clauses and MODIFY SETTING actions in a statement. */
function settingNames(sql: string): string[] {
  const names: string[] = []
  for (const m of sql.matchAll(/\b(?:SETTINGS|MODIFY SETTING)\s+([\s\S]*?)(?:;|$)/g)) {
    for (const pair of m[1]!.split(',')) names.push(/^\s*(\w+)\s*=/.exec(pair)![1]!)
  }
  return names
}

describe('the cluster form of every migration statement', () => {
  it('parses on the engine (EXPLAIN AST), statement by statement', async () => {
    const all = [...migrationStatements, ...RUNTIME].flatMap((s) => clusterStatements(s, CLUSTER))
    expect(all.length).toBeGreaterThan(migrationStatements.length)
    for (const statement of all) {
      const ast = await text(`EXPLAIN AST ${statement}`, { at: '2026-01-01 00:00:00' })
      // TRUNCATE and INSERT … SELECT: a rollup created after its data (040_health_1m.sql backfills it).
      expect(ast, statement).toMatch(/^(CreateQuery|AlterQuery|DeleteQuery|TruncateQuery|InsertQuery)/)
    }
  })

  it('names only settings that MergeTree tables have', async () => {
    const known = new Set((await text('SELECT name FROM system.merge_tree_settings')).split('\n'))
    // Table settings only: a backfill's INSERT … SETTINGS names query settings.
    const named = migrationStatements
      .filter((s) => !s.startsWith('INSERT'))
      .flatMap((s) => clusterStatements(s, CLUSTER))
      .flatMap(settingNames)
    expect(named).toContain('replicated_deduplication_window')
    expect(named.filter((n) => !known.has(n))).toEqual([])
    // The check can fail: EXPLAIN AST takes a made-up setting, system.merge_tree_settings does not.
    await text(
      'EXPLAIN AST CREATE TABLE t (a UInt8) ENGINE = MergeTree ORDER BY a SETTINGS no_such_window = 1',
    )
    expect(known.has('no_such_window')).toBe(false)
  })

  it('turns each table into a replicated local table and a Distributed table sharded by its sorting key', () => {
    const [local, distributed] = clusterStatements(
      migrationStatements.find((s) => s.startsWith('CREATE TABLE IF NOT EXISTS events'))!,
      CLUSTER,
    )
    expect(local).toMatch(/^CREATE TABLE IF NOT EXISTS events_local ON CLUSTER steward\n\(/)
    expect(local).toContain(
      "ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/{database}/events_local', '{replica}', inserted_at)",
    )
    expect(local).toContain('SETTINGS replicated_deduplication_window = 10000')
    expect(local).not.toContain('non_replicated')
    expect(distributed).toBe(
      'CREATE TABLE IF NOT EXISTS events ON CLUSTER steward AS events_local\n' +
        'ENGINE = Distributed(steward, currentDatabase(), events_local, cityHash64(customer_id, type, ts, event_id))',
    )
  })

  it('gives every table of the migrations exactly one local and one Distributed table', () => {
    const tables = migrationStatements.flatMap((s) => /^CREATE TABLE IF NOT EXISTS (\w+)/.exec(s)?.[1] ?? [])
    expect(tables).toEqual([
      'events',
      'signals_1m',
      'runs_1h',
      'jobs_1h',
      'usage_1h',
      'api_1m',
      'sla_monthly',
      'prices',
      'health_1m',
      'run_finals',
      'run_resumes',
      'otel_traces',
      'otel_logs',
      'otel_metrics_sum',
      'otel_metrics_gauge',
      'otel_metrics_histogram',
      'cost_monthly',
    ])
    for (const s of migrationStatements.filter((x) => x.startsWith('CREATE TABLE'))) {
      const [local, distributed, ...more] = clusterStatements(s, CLUSTER)
      expect(more).toEqual([])
      expect(local).toMatch(
        /ENGINE = Replicated\w*MergeTree\('\/clickhouse\/tables\/\{shard\}\/\{database\}\/\w+_local', '\{replica\}'/,
      )
      expect(distributed).toMatch(
        /ENGINE = Distributed\(steward, currentDatabase\(\), \w+_local, cityHash64\(.+\)\)$/,
      )
    }
  })

  it('attaches materialized views to the local source and target on every node', () => {
    const views = migrationStatements.filter((s) => s.startsWith('CREATE MATERIALIZED VIEW'))
    expect(views.length).toBe(8)
    for (const v of views) {
      const [rewritten] = clusterStatements(v, CLUSTER)
      expect(rewritten).toMatch(
        /^CREATE MATERIALIZED VIEW IF NOT EXISTS \w+_mv ON CLUSTER steward TO \w+_local AS/,
      )
      expect(rewritten).toMatch(/\bFROM events_local\b/)
      expect(rewritten).not.toMatch(/\bFROM events\b/)
    }
  })

  it('keeps plain views on the Distributed tables, and moves ALTER / DELETE to the local tables', () => {
    const [view] = clusterStatements(migrationStatements.find((s) => s.startsWith('CREATE VIEW'))!, CLUSTER)
    expect(view).toMatch(/^CREATE VIEW IF NOT EXISTS cost_1h ON CLUSTER steward AS/)
    expect(view).toMatch(/FROM usage_1h\b/)
    expect(
      clusterStatements(
        'ALTER TABLE api_1m MODIFY SETTING non_replicated_deduplication_window = 10000',
        CLUSTER,
      ),
    ).toEqual([
      'ALTER TABLE api_1m_local ON CLUSTER steward MODIFY SETTING replicated_deduplication_window = 10000',
    ])
    expect(clusterStatements(RUNTIME[2]!, CLUSTER)).toEqual([
      "DELETE FROM prices_local ON CLUSTER steward WHERE updated_at < {at:DateTime64(3, 'UTC')}",
    ])
  })

  it("points a materialized view's new query at the local source, on every node", () => {
    const modify = migrationStatements.find((s) => s.startsWith('ALTER TABLE usage_1h_mv MODIFY QUERY'))!
    const [rewritten, ...more] = clusterStatements(modify, CLUSTER)
    expect(more).toEqual([])
    expect(rewritten).toMatch(/^ALTER TABLE usage_1h_mv ON CLUSTER steward MODIFY QUERY/)
    expect(rewritten).toMatch(/\bFROM events_local\b/)
    expect(rewritten).not.toMatch(/\bFROM events\b/)
  })

  it('replaces a plain view on every node, reading the Distributed tables', () => {
    const replace = migrationStatements.find((s) => s.startsWith('CREATE OR REPLACE VIEW cost_1h'))!
    const [view] = clusterStatements(replace, CLUSTER)
    expect(view).toMatch(/^CREATE OR REPLACE VIEW cost_1h ON CLUSTER steward AS/)
    expect(view).toMatch(/FROM usage_1h\b/)
  })

  it('adds a column to the local tables and to the Distributed table, which knows only its own columns', () => {
    expect(
      clusterStatements(
        'ALTER TABLE prices ADD COLUMN IF NOT EXISTS x Float64 DEFAULT input_per_million',
        CLUSTER,
      ),
    ).toEqual([
      'ALTER TABLE prices_local ON CLUSTER steward ADD COLUMN IF NOT EXISTS x Float64 DEFAULT input_per_million',
      'ALTER TABLE prices ON CLUSTER steward ADD COLUMN IF NOT EXISTS x Float64 DEFAULT input_per_million',
    ])
    // Settings and TTLs are the local tables' alone.
    expect(
      clusterStatements('ALTER TABLE events MODIFY TTL toDateTime(ts) + toIntervalDay(30)', CLUSTER),
    ).toHaveLength(1)
  })

  it('refuses schema statements it has no cluster form for, and leaves reads and writes alone', () => {
    expect(() => clusterStatements('RENAME TABLE a TO b', CLUSTER)).toThrow(ClusterDdlError)
    expect(() => clusterStatements('CREATE TABLE x (a UInt8) ENGINE = Memory', CLUSTER)).toThrow(
      ClusterDdlError,
    )
    expect(() => clusterStatements('CREATE TABLE IF NOT EXISTS x (a UInt8) ENGINE = Log', CLUSTER)).toThrow(
      /no replicated form for engine Log/,
    )
    expect(clusterStatements('SELECT 1', CLUSTER)).toEqual(['SELECT 1'])
  })
})

describe('configuring a cluster', () => {
  it('takes clickhouse.cluster from the config file, refusing a name that is not one', () => {
    expect(loadConfig({}, { clickhouse: { cluster: 'steward' } }).clickhouse.cluster).toBe('steward')
    expect(() => loadConfig({}, { clickhouse: { cluster: 'a b; DROP' } })).toThrow(/clickhouse\.cluster/)
    expect(loadConfig({}).clickhouse.cluster).toBeUndefined()
  })

  it('needs a ClickHouse server: the embedded store is one node', async () => {
    await expect(
      openClickHouse({ url: undefined, path: testClickHouseDir(), cluster: 'steward' }),
    ).rejects.toThrow(/needs CLICKHOUSE_URL/)
  })

  it('leaves the client as it is without a cluster, so the single-node DDL runs byte for byte', async () => {
    const plain = await openClickHouse({ url: 'http://127.0.0.1:9', path: testClickHouseDir() })
    expect(plain.client.command).toBe(Object.getPrototypeOf(plain.client).command)
    await plain.close()
  })
})

describe('steward migrate on a cluster (a ClickHouse HTTP stand-in records it)', () => {
  let server: Server
  const received: { query: string; settings: URLSearchParams }[] = []
  beforeAll(async () => {
    server = createServer((req, res) => {
      let body = ''
      req.on('data', (c) => {
        body += c
      })
      req.on('end', () => {
        const url = new URL(req.url!, 'http://standin')
        received.push({ query: url.searchParams.get('query') ?? body, settings: url.searchParams })
        res.writeHead(200, { 'Content-Type': 'text/plain' }).end('')
      })
    })
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  })
  afterAll(() => new Promise<void>((r) => server.close(() => r())))

  it('sends the cluster form of every statement, then records each file through the Distributed table synchronously', async () => {
    const { pool } = await createTestPool()
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
    const ch = await openClickHouse({ url, path: testClickHouseDir(), cluster: CLUSTER })
    try {
      const result = await migrate({ pool, clickhouse: ch.client, log: quietLog })
      expect(result.clickhouse.length).toBeGreaterThan(0)
    } finally {
      await ch.close()
      await pool.end()
    }
    const ddl = received
      .map((r) => r.query)
      .filter((q) => /^(CREATE|ALTER|TRUNCATE)/.test(q) || /^INSERT INTO (?!schema_migrations)/.test(q))
    const expected = migrationStatements.flatMap((s) => clusterStatements(s, CLUSTER))
    expect(ddl.slice(2)).toEqual(expected)
    expect(ddl[0]).toMatch(/^CREATE TABLE IF NOT EXISTS schema_migrations_local ON CLUSTER steward/)
    const inserts = received.filter((r) => r.query.startsWith('INSERT INTO schema_migrations'))
    expect(inserts.length).toBe(fileCount)
    for (const i of inserts) expect(i.settings.get('insert_distributed_sync')).toBe('1')
  })
})
