// The telemetry event model: one zod schema per event type. Every event has a unique `eventId`
// (the deduplication key end to end), a `ts`, and the `customerId` it belongs to ('' for events
// of the factory itself: control-plane heartbeats, probes, incidents without a customer).
// schemas/events/*.schema.json are generated from these schemas (npm run gen:schemas).
import { z } from 'zod'

const id = z.string().min(1).max(128)
/** Room for Steward's reserved prefix (`steward:`) before an id of its own of up to 184 characters. */
const eventId = z.string().min(1).max(192)
const name = z.string().max(128)
const nonNeg = z.number().finite().nonnegative()

export const failureClasses = ['validation', 'transient', 'agent', 'infrastructure'] as const
export const FailureClass = z.enum(failureClasses)

const base = {
  eventId,
  ts: z.iso.datetime({ offset: true }),
  customerId: name.default(''),
  projectId: name.default(''),
}

/** Dimensions of work that runs inside a customer's run. */
const runDims = {
  runId: id,
  runType: name.default(''),
}

export const RunEvent = z
  .object({
    ...base,
    ...runDims,
    type: z.literal('run'),
    action: z.enum(['created', 'started', 'succeeded', 'failed', 'cancelled', 'resumed']),
    /** For finished runs: wall time from creation to finish. */
    durationMs: nonNeg.optional(),
    /** For failed runs: the failure class of the step that failed it. */
    errorClass: FailureClass.optional(),
    /** For cancelled runs: who cancelled (a customer token, or the admin token: an operator). */
    cancelledBy: z.enum(['customer', 'operator']).optional(),
    /** For cancelled runs: the reason given, if any. */
    cancelReason: z.string().max(500).optional(),
  })
  .strict()

export const JobEvent = z
  .object({
    ...base,
    ...runDims,
    type: z.literal('job'),
    action: z.enum(['started', 'succeeded', 'failed', 'retried', 'dead_lettered', 'reclaimed', 'cancelled']),
    jobId: id,
    stepKey: name,
    kind: name,
    pool: name,
    attempt: z.number().int().min(0).max(65535),
    workerId: name.default(''),
    errorClass: FailureClass.optional(),
    /** Handler time of this attempt (worker-seconds = durationMs / 1000). */
    durationMs: nonNeg.optional(),
  })
  .strict()

export const WorkerEvent = z
  .object({
    ...base,
    type: z.literal('worker'),
    action: z.enum(['seen', 'lost']),
    workerId: name,
    pool: name,
  })
  .strict()

/** Liveness of a Steward component; the uptime job counts a minute up when a healthy heartbeat exists. */
export const HeartbeatEvent = z
  .object({
    ...base,
    type: z.literal('heartbeat'),
    instanceId: name,
    component: z.enum(['control_plane', 'worker']),
    pool: name.default(''),
    healthy: z.boolean(),
  })
  .strict()

/** The result of an uptime probe (external checker or Steward's own). */
export const ProbeEvent = z
  .object({
    ...base,
    type: z.literal('probe'),
    target: name,
    ok: z.boolean(),
    latencyMs: nonNeg,
    region: name.default(''),
  })
  .strict()

export const ApiRequestEvent = z
  .object({
    ...base,
    type: z.literal('api_request'),
    route: name,
    method: z.string().max(16),
    status: z.number().int().min(100).max(599),
    durationMs: nonNeg,
  })
  .strict()

const tokens = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER)

/**
 * AI token usage, priced at the model's price valid at `ts` (docs/sla.md, "Cost"). As in the
 * OpenTelemetry GenAI conventions, `inputTokens` includes the cache tokens (`cacheReadTokens`,
 * `cacheWriteTokens`) and `outputTokens` includes `reasoningTokens`: each subset is priced at its
 * own price and the rest at the input or output price, so nothing is charged twice.
 */
export const UsageEvent = z
  .object({
    ...base,
    type: z.literal('usage'),
    runId: name.default(''),
    jobId: name.default(''),
    runType: name.default(''),
    pool: name.default(''),
    model: z.string().min(1).max(128),
    inputTokens: tokens,
    outputTokens: tokens,
    /** Of the input tokens, those read from the provider's prompt cache. */
    cacheReadTokens: tokens.default(0),
    /** Of the input tokens, those written to the provider's prompt cache. */
    cacheWriteTokens: tokens.default(0),
    /** Of the output tokens, those spent on reasoning. */
    reasoningTokens: tokens.default(0),
    /** What was done (GenAI `gen_ai.operation.name`: chat, embeddings, ...). */
    operation: name.default(''),
    /** Who served it (GenAI `gen_ai.provider.name`: openai, anthropic, ...). */
    provider: name.default(''),
    /** How long the call took. */
    durationMs: nonNeg.optional(),
  })
  .strict()
  .refine((u) => u.cacheReadTokens + u.cacheWriteTokens <= u.inputTokens, {
    path: ['cacheReadTokens'],
    message: 'cacheReadTokens + cacheWriteTokens must not exceed inputTokens (which includes them)',
  })
  .refine((u) => u.reasoningTokens <= u.outputTokens, {
    path: ['reasoningTokens'],
    message: 'reasoningTokens must not exceed outputTokens (which includes them)',
  })

export const IncidentEvent = z
  .object({
    ...base,
    type: z.literal('incident'),
    action: z.enum(['triggered', 'acknowledged', 'escalated', 'resolved']),
    incidentId: id,
    rule: name,
    severity: z.enum(['critical', 'error', 'warning', 'info']),
  })
  .strict()

export const recoveryKinds = [
  'control_plane_failover',
  'worker_recovery',
  'run_resume',
  'full_recovery',
] as const

/** A recovery from a failure: RTO = recoveredAt - detectedAt. */
export const RecoveryEvent = z
  .object({
    ...base,
    type: z.literal('recovery'),
    recoveryKind: z.enum(recoveryKinds),
    detectedAt: z.iso.datetime({ offset: true }),
    recoveredAt: z.iso.datetime({ offset: true }),
  })
  .strict()

/**
 * A customer's monthly budget (docs/cost.md, "Budgets"): a threshold crossed (`threshold`), the
 * policy acting at 100% (`pause`, `fallback`) or lifted (`lift`), an admin's `release` or `enforce`.
 */
export const BudgetEvent = z
  .object({
    ...base,
    type: z.literal('budget'),
    action: z.enum(['threshold', 'pause', 'fallback', 'lift', 'release', 'enforce']),
    /** The budget concerned: AI tokens only, or the total cost (absent for an admin's action). */
    metric: z.enum(['aiTokens', 'total']).optional(),
    /** For `threshold`: 50, 80 or 100 (% of the budget). */
    threshold: z.union([z.literal(50), z.literal(80), z.literal(100)]).optional(),
    budgetCents: z.number().int().min(0).optional(),
    spentCents: z.number().int().min(0).optional(),
    /** Why the policy acted or was lifted: budget reached, budget raised, month turned, admin... */
    cause: name.optional(),
  })
  .strict()

export const TelemetryEvent = z.discriminatedUnion('type', [
  RunEvent,
  JobEvent,
  WorkerEvent,
  HeartbeatEvent,
  ProbeEvent,
  ApiRequestEvent,
  UsageEvent,
  IncidentEvent,
  RecoveryEvent,
  BudgetEvent,
])

export type TelemetryEvent = z.infer<typeof TelemetryEvent>
/** An event as producers write it (defaults not yet applied). */
export type TelemetryEventInput = z.input<typeof TelemetryEvent>

export const eventSchemas = {
  run: RunEvent,
  job: JobEvent,
  worker: WorkerEvent,
  heartbeat: HeartbeatEvent,
  probe: ProbeEvent,
  api_request: ApiRequestEvent,
  usage: UsageEvent,
  incident: IncidentEvent,
  recovery: RecoveryEvent,
  budget: BudgetEvent,
} as const
