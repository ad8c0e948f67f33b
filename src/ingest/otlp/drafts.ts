// What the OTLP mappers (traces.ts, logs.ts, metrics.ts) make of each span, log record or data
// point before admission (admit.ts) decides it: the row of its OpenTelemetry table, the usage event
// of a GenAI span, the times to bound and the run and job it may belong to.
import { createHash } from 'node:crypto'
import type { Principal } from '../../http/auth.ts'
import type { UsageEvent } from '../events.ts'
import type { OtelTable } from '../targets.ts'
import { type KeyValue, stringAttribute } from './values.ts'

/** A usage event without what admission fills in (its customer and its run, job and project). */
export type UsageDraft = Omit<
  import('zod').input<typeof UsageEvent>,
  'customerId' | 'runId' | 'jobId' | 'runType' | 'pool' | 'projectId'
>

/** What may link a span to a Steward run and job (docs/telemetry.md, "Trace context"). */
export interface LinkHints {
  /** `steward.run_id` (span or resource attribute): must be a run of the item's customer. */
  runId?: string
  /** `steward.job_id`: must be a job of that run (or of one of the customer's runs). */
  jobId?: string
  /** The run the span's trace id spells, if it is one. */
  traceRunId?: string
  /** The job the span's trace state names (`steward=<job id>`), if it is one of that run's. */
  stateJobId?: string
  /** The span's parent: an attempt's span when the agent's span is the attempt's child. */
  parentSpanId: string
}

export interface Draft {
  /** How a refusal names the item: `span 3 (trace …, span …)`. */
  label: string
  customerId: string
  /** The operator named no customer: a run the item links to gives it its customer. */
  adoptsRunCustomer: boolean
  /** Why the item is refused, found while mapping it. */
  problem?: string
  /** Times to bound (ms), by field name. */
  times: [field: string, at: number][]
  /** The row (`json`: its body as JSON, when already written; dropped when the body changes). */
  row: { table: OtelTable; id: string; body: Record<string, unknown>; json?: string }
  /** The usage event of a GenAI span with token counts, and the run and job it links to. */
  usage?: {
    id: string
    event: UsageDraft
    projectId: string
    link?: { runId: string; jobId: string; runType: string; pool: string }
  }
  link?: LinkHints
}

/** Whose telemetry a resource's items are, from the token and `steward.customer_id`. */
export interface ResourceOwner {
  customerId: string
  adoptsRunCustomer: boolean
  problem?: string
}

export function resourceOwner(principal: Principal, attributes: KeyValue[] | undefined): ResourceOwner {
  const named = stringAttribute(attributes, 'steward.customer_id')
  if (principal.kind === 'customer') {
    const problem =
      named && named !== principal.customerId
        ? `its resource names customer ${JSON.stringify(named.slice(0, 128))} (steward.customer_id); this token sends only customer ${principal.customerId}'s telemetry`
        : undefined
    return { customerId: principal.customerId, adoptsRunCustomer: false, problem }
  }
  if (named.length > 128)
    return {
      customerId: '',
      adoptsRunCustomer: false,
      problem: 'steward.customer_id is longer than 128 characters',
    }
  return { customerId: named, adoptsRunCustomer: named === '' }
}

/**
 * A row whose item has no id of its own (a log record, a data point): its id is a hash of its
 * content, so a batch an exporter sends again is stored once, and two identical records (same
 * time, same everything) are one.
 */
export function contentRow(
  table: OtelTable,
  kind: 'log' | 'metric',
  body: Record<string, unknown>,
  /** What identifies the row, when not all of its body (a time stamped on receipt is not). */
  identity?: Record<string, unknown>,
): Draft['row'] {
  const json = JSON.stringify(body)
  const key = identity ? JSON.stringify(identity) : json
  const hash = createHash('sha256').update(table).update('\n').update(key).digest('hex')
  return { table, id: `otlp:${kind}:${hash}`, body, json }
}
