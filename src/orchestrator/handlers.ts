// Job kinds as values. `defineHandler` makes a definition and registers nothing; the set of
// handlers a process knows (the built-ins of kinds.ts and the application's) is passed to the
// orchestrator, which validates submitted runs against it, and to each worker, which runs only
// the kinds of its own set. Every process that accepts runs (serve) or executes them (workers)
// must be given the same application kinds.
import type { z } from 'zod'
import { ValidationError } from '../errors.ts'

/**
 * AI token usage of a step. As in the OpenTelemetry GenAI conventions, `inputTokens` includes the
 * cache tokens and `outputTokens` the reasoning tokens; each subset is priced at its own price.
 */
export interface Usage {
  model: string
  inputTokens: number
  outputTokens: number
  /** Of the input tokens, read from the prompt cache. */
  cacheReadTokens?: number
  /** Of the input tokens, written to the prompt cache. */
  cacheWriteTokens?: number
  /** Of the output tokens, spent on reasoning. */
  reasoningTokens?: number
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
  /**
   * Saves progress durably; a later attempt (retry, reclaim, resume) receives it as lastCheckpoint.
   * Throws (saving nothing) once `signal` aborted, or when the lease is no longer live.
   */
  checkpoint(data: unknown): Promise<void>
  /** Renews the lease now (long steps between automatic heartbeats); throws when the lease is lost or `signal` aborted. */
  heartbeat(): Promise<void>
  /**
   * Records AI token usage of this step (a telemetry usage event, and the run's cost). Throws
   * (recording nothing) once `signal` aborted, or when the lease is no longer live: usage of an
   * attempt that lost its job is never counted.
   */
  reportUsage(usage: Usage): Promise<void>
  /**
   * This attempt's W3C trace context (`00-<run's trace id>-<attempt's span id>-01`): pass it on
   * (the `http` kind sends it as the `traceparent` header) and the spans the work sends to
   * /v1/otlp join the run and this job (docs/telemetry.md, "Trace context").
   */
  traceparent: string
  /** The attempt's `tracestate` (`steward=<job id>`), to pass on with `traceparent`. */
  tracestate: string
  /**
   * Aborted on timeout, cancellation, lost lease, a lease this worker could not renew in time
   * (fenced: PostgreSQL unreachable), or worker shutdown past its grace period. Its `reason` is an
   * error saying which (`failureClass` 'transient' for a timeout, else 'infrastructure').
   */
  signal: AbortSignal
}

type HandlerFn<I> = (input: I, ctx: JobContext) => Promise<unknown> | unknown

export interface HandlerDefinition<I = unknown> {
  kind: string
  inputSchema: z.ZodType<I>
  /** The pool its jobs run in (overridden by `orchestrator.kindPools`; default `default`). */
  pool?: string
  // A method, so a definition of any input type belongs in a list of definitions: the worker
  // parses the input with inputSchema before it calls run.
  run(input: I, ctx: JobContext): Promise<unknown> | unknown
}

/** The kinds a process knows, by name. */
export type Handlers = ReadonlyMap<string, HandlerDefinition>

/** The handler of `kind`; its input is validated against `inputSchema` when a run is submitted. */
export function defineHandler<S extends z.ZodType>(
  kind: string,
  inputSchema: S,
  fn: HandlerFn<z.output<S>>,
  opts: { pool?: string } = {},
): HandlerDefinition<z.output<S>> {
  if (!/^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$/.test(kind))
    throw new ValidationError(
      [{ path: 'kind', message: `invalid job kind "${kind}"` }],
      `invalid job kind "${kind}"`,
    )
  return { kind, inputSchema: inputSchema as z.ZodType<z.output<S>>, pool: opts.pool, run: fn }
}

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
