// Job kinds: the handler registry, the failure classes a handler reports, and the built-in kinds
// (noop, sleep, http, simulate). Applications add kinds with `defineHandler` before workers start;
// every process that validates runs (serve) or executes them (workers) must define the same kinds.
import type { z } from 'zod'
import { z as zod } from 'zod'
import type { FailureClass } from './types.ts'

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

/** A handler error with its failure class; other errors count as transient. */
export class JobError extends Error {
  constructor(
    readonly failureClass: FailureClass,
    message: string,
  ) {
    super(message)
    this.name = new.target.name
  }
}
/** Bad input or a request the step can never satisfy: fails the job without retry. */
export class JobValidationError extends JobError {
  constructor(message: string) {
    super('validation', message)
  }
}
/** A temporary fault (network, rate limit, timeout): retried with backoff. */
export class TransientError extends JobError {
  constructor(message: string) {
    super('transient', message)
  }
}
/** The AI agent/model failed the task: the step's fallback runs, else the job is dead-lettered. */
export class AgentError extends JobError {
  constructor(message: string) {
    super('agent', message)
  }
}
/** The machine under the job went away: the job is reclaimed without spending its attempt budget. */
export class InfrastructureError extends JobError {
  constructor(message: string) {
    super('infrastructure', message)
  }
}

export function classify(err: unknown): { failureClass: FailureClass; message: string } {
  if (err instanceof JobError) return { failureClass: err.failureClass, message: err.message }
  const message = err instanceof Error ? err.message : String(err)
  return { failureClass: 'transient', message: message || 'handler failed' }
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

const retryableStatus = new Set([408, 409, 425, 429])

// A webhook executor: workers written in any language receive the step as an HTTP request.
// 2xx succeeds; 408/409/425/429/5xx and network errors are transient; other 4xx fail the step.
defineHandler(
  'http',
  zod
    .object({
      url: zod.url({ protocol: /^https?$/ }),
      method: zod.enum(['GET', 'POST', 'PUT', 'PATCH', 'DELETE']).default('POST'),
      body: zod.unknown().optional(),
      headers: zod.record(zod.string(), zod.string()).optional(),
    })
    .strict(),
  async (i, ctx) => {
    let res: Response
    try {
      res = await fetch(i.url, {
        method: i.method,
        signal: ctx.signal,
        headers: {
          'content-type': 'application/json',
          ...i.headers,
          'idempotency-key': ctx.idempotencyKey,
          'x-steward-job-id': ctx.jobId,
          'x-steward-run-id': ctx.runId,
          'x-steward-attempt': String(ctx.attempt),
        },
        body: i.method === 'GET' || i.body === undefined ? undefined : JSON.stringify(i.body),
      })
    } catch (err) {
      if (ctx.signal.aborted) throw ctx.signal.reason
      throw new TransientError(`http: ${(err as Error).message}`)
    }
    const text = (await res.text()).slice(0, 64 * 1024)
    if (!res.ok) {
      const msg = `http: ${i.method} ${new URL(i.url).host} answered ${res.status}`
      if (res.status >= 500 || retryableStatus.has(res.status)) throw new TransientError(msg)
      throw new JobValidationError(msg)
    }
    let body: unknown = text
    try {
      body = text ? JSON.parse(text) : null
    } catch {}
    return { status: res.status, body }
  },
)

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
