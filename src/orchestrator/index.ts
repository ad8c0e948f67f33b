// The orchestrator module: durable runs of jobs on PostgreSQL (see docs/orchestrator.md).
// Other modules import only from this file.
//
// In `serve`: the /v1 routes (routes/, one file per resource), `config.orchestrator.workers`
// in-process workers (each with `concurrency` slots on `config.orchestrator.pool`), a lease sweeper
// that runs even with zero workers (so jobs of killed `steward worker` processes are reclaimed), and
// the queue metrics. Routes and workers share one set of kinds: the built-ins and the application's
// (`uses.handlers`, from startSteward's `handlers`).
import type { Queryable } from '../db/postgres.ts'
import type { EgressPolicy } from '../egress/index.ts'
import { createRouter } from '../http/openapi.ts'
import type { RunLinks } from '../ingest/index.ts'
import { defineModule, type StewardModule } from '../module.ts'
import type { PricingModule } from '../pricing/index.ts'
import type { TenantsModule } from '../tenants/index.ts'
import { orchestratorConfigSchema } from './config.ts'
import { type CustomerPool, type CustomerRun, customerPools, customerRuns, resumeOwnRun } from './customer.ts'
import {
  type ControlReason,
  type CustomerControl,
  getCustomerControl,
  setCustomerControl,
} from './customer-controls.ts'
import type { HandlerDefinition } from './handlers.ts'
import { handlerSet } from './kinds.ts'
import { createOrchestratorMetrics, type OrchestratorMetrics } from './metrics.ts'
import { historyTableSizes, pruneHistory } from './retention.ts'
import { dlqRoutes } from './routes/dlq.ts'
import { jobRoutes } from './routes/jobs.ts'
import { runRoutes } from './routes/runs.ts'
import { workerRoutes } from './routes/workers.ts'
import { runLinks } from './run-links.ts'
import type { QueueStat, ResumedRun } from './schemas.ts'
import { getDlqSize, getQueueStats } from './stats.ts'
import { sweep, Worker } from './worker.ts'

/** The scheduled job that deletes old history (retention.ts). */
export const RETENTION_JOB = 'orchestrator.retention'

export interface OrchestratorModule extends StewardModule {
  workers: Worker[]
  metrics: OrchestratorMetrics
  /** The autoscaling signal per pool, with this deployment's thresholds. */
  queueStats(): Promise<QueueStat[]>
  /** Jobs in the dead-letter queue now (of one customer, or all). */
  dlqSize(customerId?: string): Promise<number>
  /** The pool in-process workers serve (and built-in kinds run in): always there, even idle. */
  defaultPool: string
  /** One customer's newest runs, each failed one with the steps that failed (the customer portal). */
  customerRuns(customerId: string, limit: number): Promise<CustomerRun[]>
  /** Pools one customer's work is in now or was in during the last day, with its own jobs there. */
  customerPools(customerId: string): Promise<CustomerPool[]>
  /** Resumes a failed or cancelled run of `customerId` (another customer's run: NotFoundError). */
  resumeRun(customerId: string, runId: string): Promise<ResumedRun>
  /** Runs and their jobs by run or job id: the OTLP receiver links spans to them (docs/telemetry.md). */
  runLinks: RunLinks
  /** A customer's hold and fallback mode (customer-controls.ts). */
  customerControl(customerId: string, db?: Queryable): Promise<CustomerControl>
  /**
   * Sets a customer's hold and fallback mode (null lifts one); in `db`'s transaction when given,
   * so the caller's record of why commits with it.
   */
  setCustomerControl(
    customerId: string,
    next: { hold: ControlReason | null; fallback: ControlReason | null },
    db?: Queryable,
  ): Promise<CustomerControl>
}

export interface OrchestratorUses {
  tenants: Pick<TenantsModule, 'settingsOf'>
  /** Prices a run's cost in its detail. */
  pricing: Pick<PricingModule, 'price'>
  /** The `http` kind's requests go out under the egress policy. */
  egress: EgressPolicy
  /** The application's job kinds, added to the built-ins (one of the same name replaces it). */
  handlers?: readonly HandlerDefinition[]
  /**
   * Every SLA month before this instant is closed (null: none is). History of a month not yet
   * closed is kept. The SLA engine (a layer above) knows; the composition root hands it in.
   */
  closedUntil: () => Promise<Date | null>
}

export const createOrchestrator = defineModule(
  'orchestrator',
  orchestratorConfigSchema,
  (deps, uses: OrchestratorUses): OrchestratorModule => {
    const cfg = deps.config
    const log = deps.log.child({ module: 'orchestrator' })
    const metrics = createOrchestratorMetrics(
      deps.metrics,
      () => getQueueStats(deps.pool, cfg),
      () => historyTableSizes(deps.pool),
    )
    deps.scheduler.register({
      name: RETENTION_JOB,
      cron: '41 * * * *',
      run: async ({ signal }) => ({
        ...(await pruneHistory({
          pool: deps.pool,
          config: cfg.retention,
          closedUntil: uses.closedUntil,
          signal,
        })),
      }),
    })
    const workers: Worker[] = []
    // One set of kinds for run validation and every in-process worker.
    const handlers = handlerSet(uses.egress, uses.handlers)
    let sweeper: NodeJS.Timeout | undefined
    const routes = createRouter()
    for (const r of [
      runRoutes({ pool: deps.pool, config: cfg, handlers, pricing: uses.pricing, tenants: uses.tenants }),
      jobRoutes(deps.pool, cfg),
      dlqRoutes(deps.pool, cfg),
      workerRoutes(deps.pool, cfg),
    ])
      routes.route('/', r)
    return {
      name: 'orchestrator',
      routes,
      workers,
      metrics,
      queueStats: () => getQueueStats(deps.pool, cfg),
      dlqSize: (customerId) => getDlqSize(deps.pool, customerId),
      runLinks: (q) => runLinks(deps.pool, q),
      customerControl: (customerId, db) => getCustomerControl(db ?? deps.pool, customerId),
      setCustomerControl: (customerId, next, db) => setCustomerControl(deps.pool, customerId, next, db),
      defaultPool: cfg.pool,
      customerRuns: (customerId, limit) => customerRuns(deps.pool, customerId, limit),
      customerPools: (customerId) => customerPools(deps.pool, customerId),
      resumeRun: (customerId, runId) => resumeOwnRun(deps.pool, customerId, runId),
      async start() {
        for (let i = 0; i < cfg.workers; i++) {
          const w = new Worker({
            pool: deps.pool,
            config: cfg,
            log,
            id: `${deps.instanceId}-w${i}`,
            metrics,
            handlers,
          })
          await w.start()
          workers.push(w)
        }
        sweeper = setInterval(
          () => sweep(deps.pool, cfg).catch((err) => log.warn('lease sweep failed', { error: err })),
          cfg.reclaimEveryMs,
        )
        sweeper.unref()
      },
      async stop() {
        clearInterval(sweeper)
        await Promise.all(workers.map((w) => w.stop()))
        workers.length = 0
      },
      async readiness() {
        const queues = await getQueueStats(deps.pool, cfg)
        return { workers: workers.length, dlq: await getDlqSize(deps.pool), queues }
      },
    }
  },
)

/** A worker process with the application's kinds (`steward worker` knows the built-ins only). @public */
export { workerCommand } from './cli.ts'
export { type OrchestratorConfig, orchestratorConfigSchema } from './config.ts'
export { createRun } from './create-run.ts'
export type { CustomerPool, CustomerRun } from './customer.ts'
export type { ControlReason, CustomerControl } from './customer-controls.ts'
/** @public */
export {
  AgentError,
  InfrastructureError,
  JobError,
  JobValidationError,
  TransientError,
} from './failures.ts'
/** The application API (defineHandler, the context and the errors a handler throws). @public */
export {
  defineHandler,
  type HandlerDefinition,
  type Handlers,
  type JobContext,
  type Usage,
} from './handlers.ts'
export { handlerSet } from './kinds.ts'
export { historyTableSizes, pruneHistory } from './retention.ts'
export { backoffDelay } from './retry.ts'
export type { QueueStat } from './schemas.ts'
export { getDlqSize, getQueueStats, recommendWorkers } from './stats.ts'
export { Worker } from './worker.ts'
