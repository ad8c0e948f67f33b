// The orchestrator module: durable runs of jobs on PostgreSQL (see docs/orchestrator.md).
// Other modules import only from this file.
//
// In `serve`: the /v1 routes, `config.orchestrator.workers` in-process workers (each with
// `concurrency` slots on `config.orchestrator.pool`), a lease sweeper that runs even with zero
// workers (so jobs of killed `steward worker` processes are reclaimed), and the queue metrics.
import { createEgressPolicy } from '../egress/index.ts'
import type { AppDeps, StewardModule } from '../module.ts'
import { httpHandler } from './http-kind.ts'
import { createOrchestratorMetrics, type OrchestratorMetrics } from './metrics.ts'
import { orchestratorRoutes } from './routes.ts'
import { getDlqSize, getQueueStats } from './stats.ts'
import { sweep, Worker } from './worker.ts'

export function createOrchestrator(
  deps: AppDeps,
): StewardModule & { workers: Worker[]; metrics: OrchestratorMetrics } {
  const cfg = deps.config.orchestrator
  const log = deps.log.child({ module: 'orchestrator' })
  const metrics = createOrchestratorMetrics(deps.metrics, () => getQueueStats(deps.pool, cfg))
  const workers: Worker[] = []
  const handlers = [httpHandler(createEgressPolicy(deps.config.egress, { log }))]
  let sweeper: NodeJS.Timeout | undefined
  return {
    name: 'orchestrator',
    routes: orchestratorRoutes(deps.pool, cfg, deps.config.sla.prices),
    workers,
    metrics,
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
}

export { type OrchestratorConfig, orchestratorConfigSchema } from './config.ts'
export { cancelRun, listDlq, resumeRun, retryJob } from './control.ts'
export {
  AgentError,
  defineHandler,
  type HandlerDefinition,
  handlerKinds,
  InfrastructureError,
  type JobContext,
  JobError,
  JobValidationError,
  TransientError,
  type Usage,
} from './handlers.ts'
export { httpHandler, httpInputSchema } from './http-kind.ts'
export { reclaimExpired } from './leases.ts'
export { backoffDelay, decideFailure } from './retry.ts'
export { createRun, getRunDetail, listRuns } from './runs.ts'
export { getDlqSize, getQueueStats, recommendWorkers } from './stats.ts'
export type { FailureClass, QueueStat, RunStatus } from './types.ts'
export { RunRequest } from './validate.ts'
export { sweep, Worker, type WorkerOptions } from './worker.ts'
