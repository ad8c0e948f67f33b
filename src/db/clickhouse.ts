// ClickHouse behind one `@clickhouse/client` client: the server at CLICKHOUSE_URL (HTTP), or the
// embedded engine (chDB, ClickHouse in-process) plugged in as the client's connection, with its
// data in $STEWARD_DATA_DIR/ch. The rest of Steward sees the same client API either way.
//
// chDB binds one data directory per process: only the process running `serve` opens it.
//
// On a ClickHouse cluster (`clickhouse.cluster`), the client runs every command() in its cluster
// form (src/db/cluster.ts: replicated local tables, Distributed tables under the names the code
// queries, DDL ON CLUSTER), and inserts into Distributed tables are synchronous
// (insert_distributed_sync): an insert is acknowledged once every shard has its rows.
import { mkdir } from 'node:fs/promises'
import { type ClickHouseClient, createClient } from '@clickhouse/client'
import { clusterStatements } from './cluster.ts'

export type { ClickHouseClient }

export interface ClickHouseHandle {
  client: ClickHouseClient
  embedded: boolean
  close(): Promise<void>
}

/** Makes `client.command()` run each statement's cluster form, in order. */
function onCluster(client: ClickHouseClient, cluster: string): void {
  const command = client.command.bind(client)
  client.command = async (params) => {
    let result: Awaited<ReturnType<typeof command>> | undefined
    for (const query of clusterStatements(params.query, cluster)) result = await command({ ...params, query })
    return result!
  }
}

export async function openClickHouse(opts: {
  url: string | undefined
  path: string
  /** A ClickHouse cluster name (remote_servers); needs `url`. */
  cluster?: string
}): Promise<ClickHouseHandle> {
  if (opts.cluster && !opts.url) {
    throw new Error('clickhouse.cluster needs CLICKHOUSE_URL: the embedded store is a single node')
  }
  if (opts.url) {
    const client = createClient({
      url: opts.url,
      request_timeout: 60_000,
      // Below the server's keep-alive timeout (10 s self-hosted, 3 s Cloud), or ECONNRESET follows.
      keep_alive: { enabled: true, idle_socket_ttl: 2_500 },
      clickhouse_settings: {
        date_time_input_format: 'best_effort',
        output_format_json_quote_64bit_integers: 0,
        ...(opts.cluster ? { insert_distributed_sync: 1 } : {}),
      },
    })
    if (opts.cluster) onCluster(client, opts.cluster)
    return { client, embedded: false, close: () => client.close() }
  }
  const path = opts.path
  await mkdir(path, { recursive: true })
  // Loaded lazily: a process talking to a ClickHouse server never loads the chDB library.
  const { createChdbConnection } = await import('chdb/connection')
  type Connection = NonNullable<NonNullable<Parameters<typeof createClient>[0]>['connection']>
  const client = createClient({
    // chDB builds against its own copy of @clickhouse/client-common; the interface is the same.
    connection: createChdbConnection({ path }) as unknown as Connection,
    clickhouse_settings: {
      date_time_input_format: 'best_effort',
      output_format_json_quote_64bit_integers: 0,
      // chDB applies a request's settings as SET on its one session, where they stay: the client
      // sends these defaults with every request, so one insert's deduplication token (the relay's)
      // never carries over to the next insert, which would then be dropped as its duplicate.
      ...STICKY_SETTING_DEFAULTS,
    },
  })
  return { client, embedded: true, close: () => client.close() }
}

/** Per-request settings Steward uses, at ClickHouse's defaults (see the chDB client above). */
const STICKY_SETTING_DEFAULTS = {
  insert_deduplication_token: '',
  deduplicate_blocks_in_dependent_materialized_views: 0,
} as const

/** The output of one statement on an embedded session: the bytes in the asked format, and what it read. */
export interface EmbeddedResult {
  bytes: Uint8Array
  rowsRead: number
  bytesRead: number
  elapsedSeconds: number
}

/**
 * A private session on the embedded engine's data directory (chDB binds one directory per process;
 * sessions on it share the data but not their settings). `SET` stays in the session, so a caller
 * that changes settings opens its own session, uses it for one request, and closes it.
 */
export interface EmbeddedSession {
  /** Runs one statement (or our own `;`-separated SETs); `params` are bound by the engine as `{name:Type}`. */
  run(
    sql: string,
    opts?: { format?: string; params?: Record<string, string | null>; timeoutMs?: number },
  ): Promise<EmbeddedResult>
  close(): void
}

export async function openEmbeddedSession(path: string): Promise<EmbeddedSession> {
  const { Session } = (await import('chdb')).default
  const session = new Session(path)
  return {
    async run(sql, opts = {}) {
      const o = { format: opts.format ?? 'TabSeparated', timeout: opts.timeoutMs }
      const r =
        opts.params && Object.keys(opts.params).length > 0
          ? await session.queryBindAsync(sql, opts.params, o)
          : await session.queryAsync(sql, o)
      return { bytes: r.bytes(), rowsRead: r.rowsRead, bytesRead: r.bytesRead, elapsedSeconds: r.elapsed }
    },
    close: () => session.close(),
  }
}

/** Runs a parameterised query and returns its rows as objects. */
export async function chQuery<T>(
  client: ClickHouseClient,
  query: string,
  params: Record<string, unknown> = {},
): Promise<T[]> {
  const rs = await client.query({ query, query_params: params, format: 'JSONEachRow' })
  return rs.json<T>()
}
