// The config file's schema, assembled from the sections the modules declare (each module owns the
// key and zod schema of its section), and `loadConfig`: env + file, parsed once at start-up.
import { z } from 'zod'
import { createBudgets } from '../budgets/index.ts'
import { createClickHouseHttp } from '../clickhouse-http/index.ts'
import { ConfigError, type PlatformConfig, parseConfig } from '../config.ts'
import { clusterNameSchema } from '../db/cluster.ts'
import { createEgress } from '../egress/index.ts'
import { createIncidents } from '../incidents/index.ts'
import { createIngest } from '../ingest/index.ts'
import { createOrchestrator } from '../orchestrator/index.ts'
import { createPortal } from '../portal/index.ts'
import { createPricing } from '../pricing/index.ts'
import { createSla } from '../sla/index.ts'
import { createStatus } from '../status/index.ts'
import { createTenants } from '../tenants/index.ts'

const sections = z
  .object({
    [createTenants.configKey]: createTenants.configSchema,
    [createPricing.configKey]: createPricing.configSchema,
    [createEgress.configKey]: createEgress.configSchema,
    [createOrchestrator.configKey]: createOrchestrator.configSchema.prefault({}),
    [createIngest.configKey]: createIngest.configSchema.prefault({}),
    [createSla.configKey]: createSla.configSchema.prefault({}),
    [createBudgets.configKey]: createBudgets.configSchema,
    [createIncidents.configKey]: createIncidents.configSchema.prefault({}),
    [createStatus.configKey]: createStatus.configSchema.prefault({}),
    [createPortal.configKey]: createPortal.configSchema.prefault({}),
    /** The composition root's own settings: shutdown. */
    server: z
      .object({
        /** After SIGTERM, /readyz fails at once and requests are still served this long, so load balancers stop sending. */
        readinessDrainMs: z.number().int().min(0).max(300_000).default(0),
        /** In-flight requests get this long to finish; then their connections are closed. */
        shutdownDeadlineMs: z.number().int().min(0).max(600_000).default(30_000),
      })
      .strict()
      .prefault({}),
    /** The PostgreSQL pool of `serve`. */
    postgres: z
      .object({
        /** Connections; default: each in-process worker's LISTEN connection and slots, plus apiConnections. */
        poolMax: z.number().int().min(2).max(10_000).optional(),
        /** Connections kept for the API, relay, scheduler and deliveries on top of the workers'. */
        apiConnections: z.number().int().min(2).max(1000).default(10),
        /** A caller waits this long for a connection before its query fails. */
        connectTimeoutMs: z.number().int().min(100).max(600_000).default(10_000),
        /** The longest one statement may run on the server (migrations have none). */
        statementTimeoutMs: z.number().int().min(100).max(3_600_000).default(60_000),
      })
      .strict()
      .prefault({}),
    /** ClickHouse: the cluster the migrations target (db), and the /clickhouse interface's limits. */
    clickhouse: z
      .object({
        cluster: clusterNameSchema.optional(),
        [createClickHouseHttp.configKey]: createClickHouseHttp.configSchema,
      })
      .strict()
      .prefault({}),
  })
  .strict()

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v)

/**
 * The price list first lived in the sla section (`sla.prices`); a file that still has it there is
 * read as the top-level `prices`. Both at once is ambiguous and refused.
 */
function movePricesOutOfSla(file: unknown, ctx: z.RefinementCtx): unknown {
  if (!isObject(file) || !isObject(file.sla) || !('prices' in file.sla)) return file
  if ('prices' in file) {
    ctx.addIssue({
      code: 'custom',
      path: ['sla', 'prices'],
      message: 'give the price list once, as the top-level "prices" ("sla.prices" is its old place)',
    })
    return file
  }
  const { prices, ...sla } = file.sla
  return { ...file, sla, prices }
}

/** The optional JSON config file (STEWARD_CONFIG): one section per module. */
export const fileSchema = z.preprocess(movePricesOutOfSla, sections)

export type FileConfig = z.output<typeof fileSchema>
/** A config file as written (every section and field optional). */
export type FileConfigInput = z.input<typeof sections>
export type Config = PlatformConfig & FileConfig

/**
 * Parses env (and the config file it names) into a Config, or throws a ConfigError that names
 * every bad variable or field. `overrides` lets the CLI and tests set sections without touching env.
 */
export function loadConfig(
  env: Record<string, string | undefined> = process.env,
  overrides: FileConfigInput = {},
): Config {
  const config = parseConfig(fileSchema, env, overrides)
  // E-mail needs a sender: refuse to start with SMTP_URL but no From address, rather than have
  // every message refused by the server (or sent from a made-up address).
  if (config.smtpUrl && !config.incidents.email.from)
    throw new ConfigError('SMTP_URL is set but incidents.email.from (the sender address) is not')
  return config
}
