// Maps a telemetry event to its row in the ClickHouse `events` table (schemas/clickhouse/001_events.sql,
// 045_run_cancellations.sql, 050_events_source.sql, 061_usage_tokens.sql).
import type { TelemetryEvent } from './events.ts'

/** Who said an event: Steward itself, the operator (admin token) or a customer (its token). */
export type EventSource = 'steward' | 'operator' | 'customer'

export interface EventRow {
  event_id: string
  type: string
  action: string
  ts: string
  customer_id: string
  project_id: string
  run_type: string
  run_id: string
  job_id: string
  step_key: string
  kind: string
  pool: string
  worker_id: string
  instance_id: string
  component: string
  attempt: number
  error_class: string
  duration_ms: number
  model: string
  input_tokens: number
  output_tokens: number
  cache_read_tokens: number
  cache_write_tokens: number
  reasoning_tokens: number
  operation: string
  provider: string
  ok: number
  target: string
  region: string
  route: string
  method: string
  status_code: number
  incident_id: string
  rule: string
  severity: string
  recovery_kind: string
  detected_at: string
  recovered_at: string
  cancelled_by: string
  cancel_reason: string
  budget_metric: string
  budget_threshold: number
  budget_cents: number
  spent_cents: number
  budget_cause: string
  /** Who said it (docs/telemetry.md, "Who may say what"). */
  source: EventSource
}

const EPOCH = '1970-01-01T00:00:00.000Z'

/** ClickHouse DateTime64 text in UTC, millisecond precision. */
export const chTime = (iso: string): string => new Date(iso).toISOString().replace('T', ' ').replace('Z', '')

export function toRow(e: TelemetryEvent, source: EventSource = 'steward'): EventRow {
  const row: EventRow = {
    event_id: e.eventId,
    type: e.type,
    action: 'action' in e ? e.action : '',
    ts: chTime(e.ts),
    customer_id: e.customerId,
    project_id: e.projectId,
    run_type: 'runType' in e ? e.runType : '',
    run_id: 'runId' in e ? e.runId : '',
    job_id: 'jobId' in e ? e.jobId : '',
    step_key: 'stepKey' in e ? e.stepKey : '',
    kind: 'kind' in e ? e.kind : '',
    pool: 'pool' in e ? e.pool : '',
    worker_id: 'workerId' in e ? e.workerId : '',
    instance_id: 'instanceId' in e ? e.instanceId : '',
    component: 'component' in e ? e.component : '',
    attempt: 'attempt' in e ? e.attempt : 0,
    error_class: 'errorClass' in e ? (e.errorClass ?? '') : '',
    duration_ms: 'durationMs' in e ? (e.durationMs ?? 0) : 0,
    model: 'model' in e ? e.model : '',
    input_tokens: 'inputTokens' in e ? e.inputTokens : 0,
    output_tokens: 'outputTokens' in e ? e.outputTokens : 0,
    cache_read_tokens: e.type === 'usage' ? e.cacheReadTokens : 0,
    cache_write_tokens: e.type === 'usage' ? e.cacheWriteTokens : 0,
    reasoning_tokens: e.type === 'usage' ? e.reasoningTokens : 0,
    operation: e.type === 'usage' ? e.operation : '',
    provider: e.type === 'usage' ? e.provider : '',
    ok: e.type === 'probe' ? Number(e.ok) : e.type === 'heartbeat' ? Number(e.healthy) : 0,
    target: 'target' in e ? e.target : '',
    region: 'region' in e ? e.region : '',
    route: 'route' in e ? e.route : '',
    method: 'method' in e ? e.method : '',
    status_code: 'status' in e ? e.status : 0,
    incident_id: 'incidentId' in e ? e.incidentId : '',
    rule: 'rule' in e ? e.rule : '',
    severity: 'severity' in e ? e.severity : '',
    recovery_kind: 'recoveryKind' in e ? e.recoveryKind : '',
    detected_at: chTime('detectedAt' in e ? e.detectedAt : EPOCH),
    recovered_at: chTime('recoveredAt' in e ? e.recoveredAt : EPOCH),
    cancelled_by: 'cancelledBy' in e ? (e.cancelledBy ?? '') : '',
    cancel_reason: 'cancelReason' in e ? (e.cancelReason ?? '') : '',
    budget_metric: e.type === 'budget' ? (e.metric ?? '') : '',
    budget_threshold: e.type === 'budget' ? (e.threshold ?? 0) : 0,
    budget_cents: e.type === 'budget' ? (e.budgetCents ?? 0) : 0,
    spent_cents: e.type === 'budget' ? (e.spentCents ?? 0) : 0,
    budget_cause: e.type === 'budget' ? (e.cause ?? '') : '',
    source,
  }
  return row
}
