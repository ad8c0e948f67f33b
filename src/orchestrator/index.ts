// The orchestrator module: see docs/orchestrator.md. Other modules import only from this file.
import type { AppDeps, StewardModule } from '../module.ts'

export function createOrchestrator(_deps: AppDeps): StewardModule {
  return { name: 'orchestrator' }
}

export {
  AgentError,
  defineHandler,
  type HandlerDefinition,
  InfrastructureError,
  type JobContext,
  JobError,
  JobValidationError,
  TransientError,
} from './handlers.ts'
export { getDlqSize, getQueueStats, recommendWorkers } from './stats.ts'
export type { FailureClass, QueueStat } from './types.ts'
