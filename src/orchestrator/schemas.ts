// The orchestrator's resources: one zod schema each, typing the store's results and the OpenAPI
// document (routes declare them as their responses). Store functions map rows to these once.
import { z } from '@hono/zod-openapi'
import { CostFigures } from '../pricing/index.ts'

export const RunStatus = z.enum(['queued', 'running', 'succeeded', 'failed', 'cancelled'])
export type RunStatus = z.infer<typeof RunStatus>

const JobStatus = z.enum(['blocked', 'queued', 'running', 'succeeded', 'failed', 'dead', 'cancelled'])
export type JobStatus = z.infer<typeof JobStatus>

/** What a failure leads to (docs/orchestrator.md, "Failure classes"). */
const FailureClass = z.enum(['validation', 'transient', 'agent', 'infrastructure'])
export type FailureClass = z.infer<typeof FailureClass>

const AttemptOutcome = z.enum([
  'running',
  'succeeded',
  'failed',
  'retried',
  'dead_lettered',
  'reclaimed',
  'released',
  'cancelled',
  'lost',
])
export type AttemptOutcome = z.infer<typeof AttemptOutcome>

const WorkerStatus = z.enum(['live', 'stopping', 'stopped', 'lost'])
export type WorkerStatus = z.infer<typeof WorkerStatus>

const time = z.iso.datetime()
const count = z.number().int()

// Schemas that add fields to another are built from its fields (not `.extend`), so the document
// describes each as one closed object rather than an `allOf` of a closed one.
const runFields = {
  id: z.string(),
  customerId: z.string(),
  projectId: z.string(),
  type: z.string(),
  priority: count,
  status: RunStatus,
  /** The class of the last failure of the job that failed the run. */
  errorClass: FailureClass.nullable(),
  idempotencyKey: z.string().nullable(),
  /** The run's W3C trace id (32 hex digits): its job attempts are spans of this trace. */
  traceId: z.string(),
  createdAt: time,
  startedAt: time.nullable(),
  finishedAt: time.nullable(),
}

/**
 * The optional body of a cancel: why. Who cancelled is the token's (admin: an operator; a customer
 * token: the customer), never the body's; both are kept with the run and on its telemetry event.
 */
export const CancelRequest = z
  .object({ reason: z.string().min(1).max(500).optional() })
  .strict()
  .openapi('CancelRequest')

/** A run without its steps: lists, and the answer of cancel. */
export const Run = z.object(runFields).openapi('Run')
export type Run = z.infer<typeof Run>

export const CreatedRun = z
  .object({
    id: z.string(),
    status: RunStatus,
    /** The run's W3C trace id: spans sent to /v1/otlp in this trace join the run. */
    traceId: z.string(),
  })
  .openapi('CreatedRun')
export type CreatedRun = z.infer<typeof CreatedRun>

export const ResumedRun = z
  .object({
    ...runFields,
    /** The jobs queued (or blocked behind a re-queued dependency) again. */
    requeuedJobs: z.array(z.string()),
  })
  .openapi('ResumedRun')
export type ResumedRun = z.infer<typeof ResumedRun>

export const Attempt = z
  .object({
    attempt: count,
    /** The kind it ran (a fallback's kind after an agent failure). */
    kind: z.string(),
    workerId: z.string(),
    outcome: AttemptOutcome,
    errorClass: FailureClass.nullable(),
    error: z.string().nullable(),
    startedAt: time,
    finishedAt: time.nullable(),
    durationMs: count.nullable(),
    /** For a retried attempt: the backoff before the next one could start. */
    retryDelayMs: count.nullable(),
    /** The attempt's span id in the run's trace (its handler's `traceparent`). */
    spanId: z.string(),
  })
  .openapi('Attempt')
export type Attempt = z.infer<typeof Attempt>

const detail = z.string().openapi({ description: 'The reason in a sentence' })

/**
 * Why a blocked or queued job is not running yet (null once it runs, and after). The reasons are
 * checked in this order; the first that holds is given.
 */
export const Waiting = z
  .discriminatedUnion('reason', [
    z.object({
      reason: z.literal('dependencies'),
      /** Steps of its run it depends on that have not succeeded yet. */
      steps: z.array(z.string()),
      detail,
    }),
    z.object({
      reason: z.literal('paused'),
      /** Who holds the customer's runs that have not started: `budget` (its budget policy) or `admin`. */
      by: z.string(),
      since: time,
      /** e.g. "budget reached: total cost 512.30 USD of a 500.00 USD budget for 2026-11". */
      detail,
    }),
    z.object({
      reason: z.literal('backoff'),
      /** It was retried after a failure and may not start before this. */
      until: time,
      detail,
    }),
    z.object({
      reason: z.literal('no_worker'),
      /** Its pool, which no live worker serves. */
      pool: z.string(),
      detail,
    }),
    z.object({
      reason: z.literal('concurrency_cap'),
      /** The customer setting that holds it back: `concurrency.perPool` (its pool) or `concurrency.perRun`. */
      cap: z.enum(['perPool', 'perRun']),
      limit: count,
      running: count,
      detail,
    }),
    z.object({
      reason: z.literal('queue'),
      /** Ready jobs of its pool that the claim order (fair share, priority, age) starts before it. */
      jobsAhead: count,
      /** The customers those jobs belong to. */
      customers: count,
      detail,
    }),
  ])
  .openapi('Waiting')
export type Waiting = z.infer<typeof Waiting>

const jobFields = {
  jobId: z.string(),
  runId: z.string(),
  key: z.string(),
  kind: z.string(),
  pool: z.string(),
  status: JobStatus,
  dependsOn: z.array(z.string()),
  attempt: count,
  failures: count,
  reclaims: count,
  maxAttempts: count,
  usingFallback: z.boolean(),
  /**
   * Why it is on its fallback: `failure` (an agent failure of its own kind), `mode` (the customer's
   * fallback mode, e.g. its budget policy, switched it before it started); null when it is not.
   */
  fallbackCause: z.enum(['failure', 'mode']).nullable(),
  runAt: time,
  /** The handler's result (any JSON), null until the step succeeded. */
  output: z.unknown().nonoptional(),
  /** The last checkpoint a handler saved (any JSON), or null. */
  checkpoint: z.unknown().nonoptional(),
  errorClass: FailureClass.nullable(),
  lastError: z.string().nullable(),
  deadLetteredAt: time.nullable(),
  /** Why it is not running yet: set for a blocked or queued job, null otherwise. */
  waiting: Waiting.nullable(),
  attempts: z.array(Attempt),
}

/** A job: one step of a run, with its attempts. */
export const Job = z.object(jobFields).openapi('Job')
export type Job = z.infer<typeof Job>

/** The priced parts of a run's cost are the pricing module's figures. */
const priced = CostFigures.shape

/**
 * The cost of a run: handler time and reported tokens, priced with the price list on the UTC day
 * the work happened (usage with no price is named in `unpriced`).
 */
export const RunCost = z
  .object({
    workerSeconds: z.number(),
    tokens: z.array(
      z.object({
        model: z.string(),
        inputTokens: count,
        outputTokens: count,
        cacheReadTokens: count,
        cacheWriteTokens: count,
        reasoningTokens: count,
      }),
    ),
    currency: priced.currency,
    total: priced.total,
    infrastructure: priced.infrastructure,
    ai: priced.ai,
    unpriced: priced.unpriced,
  })
  .openapi('RunCost')
export type RunCost = z.infer<typeof RunCost>

export const RunDetail = z.object({ ...runFields, steps: z.array(Job), cost: RunCost }).openapi('RunDetail')
export type RunDetail = z.infer<typeof RunDetail>

/** A job in the dead-letter queue, with the run it belongs to. */
export const DlqEntry = z
  .object({ ...jobFields, customerId: z.string(), projectId: z.string(), runType: z.string() })
  .openapi('DlqEntry')
export type DlqEntry = z.infer<typeof DlqEntry>

/** The autoscaling signal of one pool. */
export const QueueStat = z
  .object({
    pool: z.string(),
    /** Jobs ready to run now. */
    depth: count,
    oldestReadyAgeSeconds: z.number(),
    running: count,
    liveWorkers: count,
    recommendedWorkers: count,
  })
  .openapi('QueueStat')
export type QueueStat = z.infer<typeof QueueStat>

export const WorkerRecord = z
  .object({
    id: z.string(),
    pool: z.string(),
    concurrency: count,
    host: z.string(),
    pid: count.nullable(),
    status: WorkerStatus,
    startedAt: time,
    lastHeartbeatAt: time,
    secondsSinceHeartbeat: z.number(),
    /** The jobs it holds leases on. */
    jobs: z.array(z.string()),
  })
  .openapi('Worker')
export type WorkerRecord = z.infer<typeof WorkerRecord>
