// Every setting Steward reads, parsed once at start-up with zod and passed down as a typed value.
// Env wins for the deployment knobs (README: Configuration); an optional JSON config file
// (STEWARD_CONFIG) holds the structured settings, one section per module. This file owns the env
// and reading the file; the schema of the file's sections is assembled by the composition root
// (src/server/) from the modules' own declarations. Nothing else reads process.env.
import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { z } from 'zod'

const port = z.coerce.number().int().min(0).max(65535)
const blankAsUnset = (v: unknown) => (v === '' ? undefined : v)
const optionalUrl = (protocol: RegExp, hint: string) =>
  z.preprocess(blankAsUnset, z.url({ protocol, error: `must be a ${hint} URL` }).optional())
const optionalString = z.preprocess(blankAsUnset, z.string().optional())

/** The environment variables Steward reads, by name (README: Configuration). */
export const envSchema = z.object({
  DATABASE_URL: optionalUrl(/^postgres(ql)?$/, 'postgres://'),
  CLICKHOUSE_URL: optionalUrl(/^https?$/, 'http(s)://'),
  STEWARD_DATA_DIR: z.string().min(1).default('./.steward'),
  PORT: port.default(8080),
  HOST: z.string().min(1).default('0.0.0.0'),
  STEWARD_ADMIN_TOKEN: optionalString.pipe(z.string().min(16, 'must be at least 16 characters').optional()),
  /** Bearer token a scraper presents to see per-customer series on /metrics; unset: never shown. */
  STEWARD_METRICS_TOKEN: optionalString.pipe(z.string().min(16, 'must be at least 16 characters').optional()),
  /** Read-only password of /clickhouse (user steward) for Grafana; unset: only the admin token. */
  STEWARD_GRAFANA_TOKEN: optionalString.pipe(z.string().min(16, 'must be at least 16 characters').optional()),
  STEWARD_URL: optionalUrl(/^https?$/, 'http(s)://'),
  STEWARD_CONFIG: optionalString,
  PAGERDUTY_ROUTING_KEY: optionalString.pipe(z.string().length(32, 'must be 32 characters').optional()),
  PAGERDUTY_EVENTS_HOST: z.string().min(1).default('events.pagerduty.com'),
  LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error', 'silent']).default('info'),
  /** How long `serve` waits for PostgreSQL and ClickHouse to answer before giving up. */
  STEWARD_STARTUP_TIMEOUT: z.coerce.number().positive().default(60),
})

export type Env = z.infer<typeof envSchema>

/** The deployment settings every process has, from the environment. */
export interface PlatformConfig {
  databaseUrl: string | undefined
  clickhouseUrl: string | undefined
  dataDir: string
  /** Embedded ClickHouse (chDB) data: $STEWARD_DATA_DIR/ch. */
  clickhouseDir: string
  port: number
  host: string
  adminToken: string | undefined
  /** Token that shows per-customer series on /metrics (unset: they are never shown). */
  metricsToken: string | undefined
  /** Read-only password for /clickhouse (Grafana), besides the admin token. */
  grafanaToken: string | undefined
  stewardUrl: string
  logLevel: Env['LOG_LEVEL']
  startupTimeoutMs: number
  pagerduty: { routingKey: string | undefined; eventsHost: string }
}

export class ConfigError extends Error {
  override name = 'ConfigError'
}

function describe(error: z.ZodError, prefix = ''): string {
  return error.issues.map((i) => `  ${prefix}${i.path.join('.') || '(root)'}: ${i.message}`).join('\n')
}

/**
 * Parses env (and the config file it names) with `fileSchema`, or throws a ConfigError that names
 * every bad variable or field. `overrides` lets the CLI and tests set sections without touching env.
 */
export function parseConfig<S extends z.ZodType>(
  fileSchema: S,
  env: Record<string, string | undefined>,
  overrides: object = {},
): PlatformConfig & z.output<S> {
  const parsedEnv = envSchema.safeParse(env)
  if (!parsedEnv.success) throw new ConfigError(`invalid environment:\n${describe(parsedEnv.error)}`)
  const e = parsedEnv.data

  let file: unknown = {}
  if (e.STEWARD_CONFIG) {
    const path = resolve(e.STEWARD_CONFIG)
    try {
      file = JSON.parse(readFileSync(path, 'utf8'))
    } catch (err) {
      throw new ConfigError(`STEWARD_CONFIG: cannot read ${path}: ${(err as Error).message}`)
    }
  }
  const parsedFile = fileSchema.safeParse({ ...(file as object), ...overrides })
  if (!parsedFile.success) {
    throw new ConfigError(
      `invalid config file ${e.STEWARD_CONFIG ?? '(defaults)'}:\n${describe(parsedFile.error)}`,
    )
  }
  const platform: PlatformConfig = {
    databaseUrl: e.DATABASE_URL,
    clickhouseUrl: e.CLICKHOUSE_URL,
    dataDir: resolve(e.STEWARD_DATA_DIR),
    clickhouseDir: resolve(e.STEWARD_DATA_DIR, 'ch'),
    port: e.PORT,
    host: e.HOST,
    adminToken: e.STEWARD_ADMIN_TOKEN,
    grafanaToken: e.STEWARD_GRAFANA_TOKEN,
    metricsToken: e.STEWARD_METRICS_TOKEN,
    stewardUrl: e.STEWARD_URL ?? `http://127.0.0.1:${e.PORT}`,
    logLevel: e.LOG_LEVEL,
    startupTimeoutMs: e.STEWARD_STARTUP_TIMEOUT * 1000,
    pagerduty: { routingKey: e.PAGERDUTY_ROUTING_KEY, eventsHost: e.PAGERDUTY_EVENTS_HOST },
  }
  return Object.assign({}, parsedFile.data as z.output<S>, platform)
}
