// The cluster form of Steward's ClickHouse DDL, derived at apply time from the single-node
// statements of schemas/clickhouse (whose files, and so their checksums, never change).
//
// With `clickhouse.cluster` set, every table `t` of a migration becomes
// - `t_local ON CLUSTER c`: the Replicated* form of its MergeTree engine, with a Keeper path per
//   table ('/clickhouse/tables/{shard}/{database}/t_local') and the `{replica}` macro, and
//   `replicated_deduplication_window` in place of `non_replicated_deduplication_window`;
// - `t ON CLUSTER c`: a Distributed table over `t_local` under the name the code queries, so no
//   query of Steward changes. Its sharding key is a hash of the sorting key: every copy of a row
//   (a re-sent event, a newer version of a price or an SLA row) lands on the same shard, where
//   ReplacingMergeTree collapses it, and a batch re-sent with the same insert_deduplication_token
//   splits into exactly the same per-shard blocks, which each shard then drops as duplicates
//   (with a random key a shard could drop different rows under the same token).
// Materialized views are created on every node, reading the local source and writing the local
// target (an insert through the Distributed table reaches each shard's `events_local`, whose views
// fill that shard's rollups; a view's new query, `ALTER TABLE v MODIFY QUERY`, reads the local
// source too); plain views read the Distributed tables. ALTER TABLE, DELETE FROM, TRUNCATE and
// OPTIMIZE address the local tables ON CLUSTER; columns added (ADD COLUMN) are added to the
// Distributed table as well, which reads and writes only the columns it has. Any other statement
// that changes the schema is refused, so a new kind of migration statement gets its cluster form
// (and a test) first.
//
// ClickHouse Cloud needs none of this: it runs the single-node DDL on SharedMergeTree.
import { z } from 'zod'

export const clusterNameSchema = z
  .string()
  .regex(
    /^[A-Za-z_][A-Za-z0-9_]*$/,
    'must be a cluster name from the servers remote_servers (letters, digits, _)',
  )

export class ClusterDdlError extends Error {
  override name = 'ClusterDdlError'
}

const ENGINES = /^(Replacing|Summing|Aggregating|Collapsing|VersionedCollapsing)?MergeTree$/

/** The balanced `( … )` starting at `open`, and the index after it. */
function parenthesised(sql: string, open: number): { inner: string; end: number } {
  let depth = 0
  for (let i = open; i < sql.length; i++) {
    if (sql[i] === '(') depth++
    else if (sql[i] === ')' && --depth === 0) return { inner: sql.slice(open + 1, i), end: i + 1 }
  }
  throw new ClusterDdlError(`unbalanced parentheses in: ${sql.slice(0, 80)}`)
}

const replicatedSettings = (sql: string) =>
  sql.replace(/\bnon_replicated_deduplication_window\b/g, 'replicated_deduplication_window')

/** The sorting key of a table definition's tail (`ORDER BY (a, b)` or `ORDER BY a`). */
function sortingKey(tail: string, table: string): string {
  const m = /\bORDER BY\s+/.exec(tail)
  if (!m) throw new ClusterDdlError(`table ${table} has no ORDER BY to shard by`)
  const at = m.index + m[0].length
  if (tail[at] === '(') return parenthesised(tail, at).inner.trim()
  return /^[^\s]+/.exec(tail.slice(at))![0]
}

function createTable(sql: string, cluster: string): string[] {
  const head = /^CREATE TABLE IF NOT EXISTS (\w+)\s*/.exec(sql)
  if (!head || sql[head[0].length] !== '(') {
    throw new ClusterDdlError(
      `no cluster form for: ${sql.slice(0, 80)} (expected CREATE TABLE IF NOT EXISTS t (…))`,
    )
  }
  const table = head[1]!
  const columns = parenthesised(sql, head[0].length)
  const engine = /^\s*ENGINE\s*=\s*(\w+)/.exec(sql.slice(columns.end))
  if (!engine || !ENGINES.test(engine[1]!)) {
    throw new ClusterDdlError(`table ${table}: no replicated form for engine ${engine?.[1] ?? '(none)'}`)
  }
  let rest = sql.slice(columns.end + engine[0].length)
  let args = ''
  if (rest.startsWith('(')) {
    const a = parenthesised(rest, 0)
    args = a.inner.trim() ? `, ${a.inner.trim()}` : ''
    rest = rest.slice(a.end)
  }
  const local = `${table}_local`
  const key = sortingKey(rest, table)
  return [
    `CREATE TABLE IF NOT EXISTS ${local} ON CLUSTER ${cluster}\n${sql.slice(head[0].length, columns.end)}\n` +
      `ENGINE = Replicated${engine[1]}('/clickhouse/tables/{shard}/{database}/${local}', '{replica}'${args})` +
      replicatedSettings(rest),
    `CREATE TABLE IF NOT EXISTS ${table} ON CLUSTER ${cluster} AS ${local}\n` +
      `ENGINE = Distributed(${cluster}, currentDatabase(), ${local}, cityHash64(${key}))`,
  ]
}

/** The statements that do on `cluster` what `sql` (one statement of a migration) does on one node. */
export function clusterStatements(sql: string, cluster: string): string[] {
  const s = sql.trim()
  const upper = s.toUpperCase()
  if (upper.startsWith('CREATE TABLE')) return createTable(s, cluster)
  const mv = /^CREATE MATERIALIZED VIEW IF NOT EXISTS (\w+) TO (\w+) AS\b/.exec(s)
  if (mv) {
    // Tables named after FROM / JOIN (not subqueries or table functions) are read locally.
    const select = s.slice(mv[0].length).replace(/\b(FROM|JOIN)(\s+)(\w+)\b(?!\s*\()/g, '$1$2$3_local')
    return [
      `CREATE MATERIALIZED VIEW IF NOT EXISTS ${mv[1]} ON CLUSTER ${cluster} TO ${mv[2]}_local AS${select}`,
    ]
  }
  const view = /^CREATE (VIEW IF NOT EXISTS|OR REPLACE VIEW) (\w+) AS\b/.exec(s)
  if (view) return [`CREATE ${view[1]} ${view[2]} ON CLUSTER ${cluster} AS${s.slice(view[0].length)}`]
  // A materialized view's new query reads the local source, as its first one did.
  const query = /^ALTER TABLE (\w+) MODIFY QUERY\b/.exec(s)
  if (query) {
    const select = s.slice(query[0].length).replace(/\b(FROM|JOIN)(\s+)(\w+)\b(?!\s*\()/g, '$1$2$3_local')
    return [`ALTER TABLE ${query[1]} ON CLUSTER ${cluster} MODIFY QUERY${select}`]
  }
  const local = /^(ALTER TABLE|DELETE FROM|TRUNCATE TABLE|OPTIMIZE TABLE) (\w+)\b/.exec(s)
  if (local) {
    const rest = replicatedSettings(s.slice(local[0].length))
    const statements = [`${local[1]} ${local[2]}_local ON CLUSTER ${cluster}${rest}`]
    // Columns added to the local tables are added to the Distributed table too, which reads and
    // writes only the columns it knows.
    if (local[1] === 'ALTER TABLE' && /^\s*ADD COLUMN\b/.test(rest) && !/\bMODIFY\b|\bDROP\b/.test(rest))
      statements.push(`ALTER TABLE ${local[2]} ON CLUSTER ${cluster}${rest}`)
    return statements
  }
  if (/^(CREATE|ALTER|DROP|RENAME|TRUNCATE|DELETE|OPTIMIZE|EXCHANGE|ATTACH|DETACH|UNDROP)\b/.test(upper)) {
    throw new ClusterDdlError(`no cluster form for: ${s.slice(0, 80)}`)
  }
  return [s]
}
