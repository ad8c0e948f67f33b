// What a Steward module is: routes mounted under /v1, and a lifecycle that `serve` drives.
// Modules receive their dependencies (AppDeps) and never open connections or read env themselves.
import type { OpenAPIHono } from '@hono/zod-openapi'
import type { Registry } from 'prom-client'
import type { Config } from './config.ts'
import type { ClickHouseClient } from './db/clickhouse.ts'
import type { Pool } from './db/postgres.ts'
import type { AppEnv } from './http/auth.ts'
import type { Logger } from './log.ts'
import type { Scheduler } from './scheduler/index.ts'

export interface AppDeps {
  config: Config
  pool: Pool
  /** Present in `serve`; absent in a `steward worker` process, which reaches ClickHouse only via the outbox. */
  clickhouse?: ClickHouseClient
  log: Logger
  metrics: Registry
  scheduler: Scheduler
  /** Unique per process: shown in worker lists, scheduled-run records and heartbeats. */
  instanceId: string
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
  /** Extra detail for GET /readyz; throw to report the module not ready. */
  readiness?(): Promise<Record<string, unknown>>
}

export type ModuleFactory = (deps: AppDeps) => StewardModule | Promise<StewardModule>
