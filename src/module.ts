// What a Steward module is: routes mounted under /v1, and a lifecycle that `serve` drives.
// A module declares the key and zod schema of its own config section in its factory; the
// composition root (src/server/) assembles the config file's schema from them and hands each
// module only its slice, with the platform (connections, logger, metrics, scheduler) and the
// services of the lower modules it uses. Modules never open connections or read env themselves.
import type { OpenAPIHono } from '@hono/zod-openapi'
import type { Context } from 'hono'
import type { Registry } from 'prom-client'
import type { z } from 'zod'
import type { ClickHouseClient } from './db/clickhouse.ts'
import type { Pool } from './db/postgres.ts'
import type { AppEnv } from './http/auth.ts'
import type { Logger } from './log.ts'
import type { Scheduler } from './scheduler/index.ts'

/** What every module receives, whatever its settings. */
export interface Platform {
  pool: Pool
  /** Present in `serve`; absent in a `steward worker` process, which reaches ClickHouse only via the outbox. */
  clickhouse?: ClickHouseClient
  log: Logger
  metrics: Registry
  scheduler: Scheduler
  /** Unique per process: shown in worker lists, scheduled-run records and heartbeats. */
  instanceId: string
}

/** A module's dependencies: the platform and its own config slice, nothing of other modules' settings. */
export interface ModuleContext<C> extends Platform {
  config: C
}

export interface StewardModule {
  name: string
  /** Mounted under /v1; every route behind bearer auth. */
  routes?: OpenAPIHono<AppEnv>
  /** Routes outside /v1 that do their own authentication (e.g. signed webhooks). */
  publicRoutes?: OpenAPIHono<AppEnv>
  start?(): Promise<void>
  /** Stops background work; in-flight work is finished or released within the module's grace period. */
  stop?(): Promise<void>
  /**
   * The answer to an error on a request the module speaks another protocol's error shape for
   * (the OTLP receiver: google.rpc.Status); undefined: the usual problem+json.
   */
  errorResponse?(c: Context, err: unknown): Response | undefined
  /** Extra detail for GET /readyz; throw to report the module not ready. */
  readiness?(): Promise<Record<string, unknown>>
}

/** A module factory that carries the key and schema of the config section it owns. */
export type ModuleFactory<K extends string, S extends z.ZodType, Uses, M> = ((
  ctx: ModuleContext<z.output<S>>,
  uses: Uses,
) => M) & { readonly configKey: K; readonly configSchema: S }

export function defineModule<K extends string, S extends z.ZodType, Uses, M>(
  configKey: K,
  configSchema: S,
  create: (ctx: ModuleContext<z.output<S>>, uses: Uses) => M,
): ModuleFactory<K, S, Uses, M> {
  return Object.assign(create, { configKey, configSchema })
}
