// The built-in job kinds (noop, sleep, simulate, and http from http-kind.ts) and the set of
// handlers a process runs: the built-ins and the application's kinds. `serve` builds it for run
// validation and its in-process workers, `steward worker` for its worker, both from their own
// `egress` config section and the application kinds they were given.
import { z } from 'zod'
import type { EgressPolicy } from '../egress/index.ts'
import { AgentError, InfrastructureError, JobValidationError, TransientError } from './failures.ts'
import { defineHandler, type HandlerDefinition, type Handlers, sleep } from './handlers.ts'
import { httpHandler } from './http-kind.ts'

const failTypes = {
  transient: TransientError,
  agent: AgentError,
  infra: InfrastructureError,
  validation: JobValidationError,
}

const noop = defineHandler('noop', z.unknown(), () => null)

const sleepKind = defineHandler(
  'sleep',
  z.object({ ms: z.number().int().min(0).max(86_400_000) }).strict(),
  async (i, ctx) => {
    await sleep(i.ms, ctx.signal)
    return { slept: i.ms }
  },
)

// Fails its first `failTimes` attempts with `failWith`, then succeeds and reports `usage`.
const simulate = defineHandler(
  'simulate',
  z
    .object({
      durationMs: z.number().int().min(0).max(3_600_000).optional(),
      failTimes: z.number().int().min(0).max(100).optional(),
      failWith: z.enum(['transient', 'agent', 'infra', 'validation']).optional(),
      usage: z
        .object({
          model: z.string().min(1).max(128),
          inputTokens: z.number().int().min(0),
          outputTokens: z.number().int().min(0),
          cacheReadTokens: z.number().int().min(0).optional(),
          cacheWriteTokens: z.number().int().min(0).optional(),
          reasoningTokens: z.number().int().min(0).optional(),
        })
        .strict()
        .refine((u) => (u.cacheReadTokens ?? 0) + (u.cacheWriteTokens ?? 0) <= u.inputTokens, {
          path: ['cacheReadTokens'],
          message: 'cache tokens are part of inputTokens: their sum must not exceed it',
        })
        .refine((u) => (u.reasoningTokens ?? 0) <= u.outputTokens, {
          path: ['reasoningTokens'],
          message: 'reasoning tokens are part of outputTokens: they must not exceed it',
        })
        .optional(),
    })
    .strict(),
  async (i, ctx) => {
    if (i.durationMs) await sleep(i.durationMs, ctx.signal)
    if (ctx.attempt <= (i.failTimes ?? 0)) {
      const E = failTypes[i.failWith ?? 'transient']
      throw new E(`simulated ${i.failWith ?? 'transient'} failure on attempt ${ctx.attempt}`)
    }
    if (i.usage) await ctx.reportUsage(i.usage)
    return { attempt: ctx.attempt }
  },
)

/**
 * The kinds a process knows: the built-ins, `http` sending through `egress`, then `application`'s
 * (an application kind named like a built-in replaces it).
 */
export function handlerSet(egress: EgressPolicy, application: readonly HandlerDefinition[] = []): Handlers {
  const all: HandlerDefinition[] = [noop, sleepKind, httpHandler(egress), simulate, ...application]
  return new Map(all.map((h) => [h.kind, h]))
}
