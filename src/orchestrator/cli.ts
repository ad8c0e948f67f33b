// `steward worker [--pool NAME] [--concurrency N]`: a data-plane worker process on DATABASE_URL.
// It talks to PostgreSQL only; its telemetry reaches ClickHouse through the outbox.
//
// SIGTERM/SIGINT: stop claiming, let in-flight jobs finish within shutdownGraceMs, release the
// rest to the queue, mark the worker stopped, exit 0. A second signal exits at once (the leases
// of its jobs then expire and another worker reclaims them). SIGKILL: the same, via lease expiry.
import { parseArgs } from 'node:util'
import { ConfigError, type PlatformConfig } from '../config.ts'
import { createPool } from '../db/postgres.ts'
import { createEgressPolicy, type EgressConfig } from '../egress/index.ts'
import { createLogger } from '../log.ts'
import type { OrchestratorConfig } from './config.ts'
import type { HandlerDefinition } from './handlers.ts'
import { handlerSet } from './kinds.ts'
import { hasQueueTables } from './queue.ts'
import { Worker } from './worker.ts'

function positiveInt(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined
  const n = Number(value)
  if (!Number.isInteger(n) || n < 1 || n > 1024)
    throw new ConfigError(`--${name} must be an integer from 1 to 1024, got "${value}"`)
  return n
}

/** `application.handlers`: the application's job kinds (the same as its `serve` was given). */
export async function workerCommand(
  args: string[],
  config: PlatformConfig & { orchestrator: OrchestratorConfig; egress: EgressConfig },
  application: { handlers?: readonly HandlerDefinition[] } = {},
): Promise<void> {
  const { values } = parseArgs({
    args,
    options: { pool: { type: 'string' }, concurrency: { type: 'string' } },
  })
  const poolName = values.pool ?? config.orchestrator.pool
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/.test(poolName))
    throw new ConfigError(`--pool: invalid pool name "${poolName}"`)
  const concurrency = positiveInt('concurrency', values.concurrency) ?? config.orchestrator.concurrency
  if (!config.databaseUrl)
    throw new ConfigError(
      'steward worker needs DATABASE_URL: the PostgreSQL server that `steward serve` uses',
    )

  const log = createLogger(config.logLevel, { component: 'worker' })
  const pool = createPool(config.databaseUrl, { max: concurrency + 4, applicationName: 'steward-worker' })
  if (!(await hasQueueTables(pool))) {
    await pool.end()
    throw new ConfigError(
      'the database has no orchestrator tables: run `steward migrate` (or `steward serve`) first',
    )
  }
  const handlers = handlerSet(createEgressPolicy(config.egress, { log }), application.handlers)
  const worker = new Worker({ pool, config: config.orchestrator, log, poolName, concurrency, handlers })
  await worker.start()
  process.stdout.write(
    `steward worker ${worker.id} serving pool "${poolName}" (concurrency ${concurrency})\n`,
  )

  let signalled = false
  const shutdown = (sig: NodeJS.Signals) => {
    if (signalled) process.exit(130)
    signalled = true
    process.stderr.write(`${sig}: finishing in-flight jobs (send again to exit now)\n`)
    worker
      .stop()
      .then(() => pool.end())
      .then(
        () => process.exit(0),
        (err) => {
          process.stderr.write(`worker shutdown failed: ${(err as Error).message}\n`)
          process.exit(1)
        },
      )
  }
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.removeAllListeners(sig)
    process.on(sig, shutdown)
  }
}
