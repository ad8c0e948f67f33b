// Job kinds: the handler registry and the built-in kinds (noop, sleep, http from http-kind.ts,
// simulate); the failure-class errors live in failures.ts and are exported from here too.
// Applications add kinds with `defineHandler` before workers start; every process that validates
// runs (serve) or executes them (workers) must define the same kinds.
import type { z } from 'zod'
import { z as zod } from 'zod'
import { createEgressPolicy } from '../egress/index.ts'
import { AgentError, InfrastructureError, JobValidationError, TransientError } from './failures.ts'
import { httpHandler } from './http-kind.ts'

export { classify } from './failures.ts'

export interface Usage {
  model: string
  inputTokens: number
  outputTokens: number
}

export interface JobContext {
  jobId: string
  runId: string
  stepKey: string
  /** 1 on the first try; reclaims and retries increase it. */
  attempt: number
  /** Stable across attempts of this job: pass it to external systems to make side effects idempotent. */
  idempotencyKey: string
  /** What the last `checkpoint()` of an earlier attempt saved (undefined: none). */
  lastCheckpoint: unknown
  /** Saves progress durably; a later attempt (retry, reclaim, resume) receives it as lastCheckpoint. */
  checkpoint(data: unknown): Promise<void>
  /** Renews the lease now (long steps between automatic heartbeats); throws when the lease is lost. */
  heartbeat(): Promise<void>
  /** Records AI token usage of this step (a telemetry usage event, and the run's cost). */
  reportUsage(usage: Usage): Promise<void>
  /** Aborted on timeout, cancellation, lost lease or worker shutdown past its grace period. */
  signal: AbortSignal
}

export type HandlerFn<I> = (input: I, ctx: JobContext) => Promise<unknown> | unknown

export interface HandlerDefinition<I = unknown> {
  kind: string
  inputSchema: z.ZodType<I>
  pool?: string
  run: HandlerFn<I>
}

const registry = new Map<string, HandlerDefinition>()

/** Registers (or replaces) the handler of `kind`. Its input is validated when a run is submitted. */
export function defineHandler<S extends z.ZodType>(
  kind: string,
  inputSchema: S,
  fn: HandlerFn<z.output<S>>,
  opts: { pool?: string } = {},
): HandlerDefinition<z.output<S>> {
  if (!/^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$/.test(kind)) throw new Error(`invalid job kind "${kind}"`)
  const def = { kind, inputSchema, pool: opts.pool, run: fn } as HandlerDefinition<z.output<S>>
  registry.set(kind, def as HandlerDefinition)
  return def
}

export const getHandler = (kind: string): HandlerDefinition | undefined => registry.get(kind)

/** Resolves after `ms`, or rejects when `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason)
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort)
      resolve()
    }, ms)
    const onAbort = () => {
      clearTimeout(t)
      reject(signal?.reason)
    }
    signal?.addEventListener('abort', onAbort, { once: true })
  })
}

// ---- built-in kinds ----

defineHandler('noop', zod.unknown(), () => null)

defineHandler(
  'sleep',
  zod.object({ ms: zod.number().int().min(0).max(86_400_000) }).strict(),
  async (i, ctx) => {
    await sleep(i.ms, ctx.signal)
    return { slept: i.ms }
  },
)

// A webhook executor (http-kind.ts). This process-wide definition applies the default egress policy
// (nothing internal allowed); serve and `steward worker` give their workers one built from the
// `egress` config.
const http = httpHandler(createEgressPolicy())
defineHandler(http.kind, http.inputSchema, http.run)

const failTypes = {
  transient: TransientError,
  agent: AgentError,
  infra: InfrastructureError,
  validation: JobValidationError,
}

// Fails its first `failTimes` attempts with `failWith`, then succeeds and reports `usage`.
defineHandler(
  'simulate',
  zod
    .object({
      durationMs: zod.number().int().min(0).max(3_600_000).optional(),
      failTimes: zod.number().int().min(0).max(100).optional(),
      failWith: zod.enum(['transient', 'agent', 'infra', 'validation']).optional(),
      usage: zod
        .object({
          model: zod.string().min(1).max(128),
          inputTokens: zod.number().int().min(0),
          outputTokens: zod.number().int().min(0),
        })
        .strict()
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
