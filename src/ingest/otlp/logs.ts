// Log records of an ExportLogsServiceRequest → drafts (drafts.ts): each a row of `otel_logs` (the
// columns of the collector's ClickHouse exporter, plus EventName), its time the record's time, else
// its observed time, else the time it was received (as a collector stamps it).
import type { Principal } from '../../http/auth.ts'
import { contentRow, type Draft, resourceOwner } from './drafts.ts'
import {
  type AnyValue,
  attributeMap,
  chTimeNanos,
  hex,
  type Int64,
  int64,
  type KeyValue,
  nanosToMs,
  type Resource,
  type Scope,
  stringAttribute,
  valueText,
} from './values.ts'

interface LogRecord {
  timeUnixNano?: Int64
  observedTimeUnixNano?: Int64
  severityNumber?: number
  severityText?: string
  body?: AnyValue | null
  attributes?: KeyValue[]
  flags?: number
  traceId?: Uint8Array
  spanId?: Uint8Array
  eventName?: string
}

export interface LogsRequest {
  resourceLogs?: {
    resource?: Resource | null
    schemaUrl?: string
    scopeLogs?: { scope?: Scope | null; schemaUrl?: string; logRecords?: LogRecord[] }[]
  }[]
}

export const countLogRecords = (r: LogsRequest): number => {
  let n = 0
  for (const rl of r.resourceLogs ?? []) for (const sl of rl.scopeLogs ?? []) n += sl.logRecords?.length ?? 0
  return n
}

export function logDrafts(request: LogsRequest, principal: Principal, now: number): Draft[] {
  const drafts: Draft[] = []
  const received = BigInt(now) * 1_000_000n
  for (const rl of request.resourceLogs ?? []) {
    const resourceAttributes = rl.resource?.attributes
    const owner = resourceOwner(principal, resourceAttributes)
    const resource = attributeMap(resourceAttributes)
    const serviceName = stringAttribute(resourceAttributes, 'service.name')
    for (const sl of rl.scopeLogs ?? []) {
      const scopeAttributes = attributeMap(sl.scope?.attributes)
      for (const record of sl.logRecords ?? []) {
        const stamped = int64(record.timeUnixNano) || int64(record.observedTimeUnixNano)
        const time = stamped || received
        const body = {
          Timestamp: chTimeNanos(time),
          TraceId: hex(record.traceId),
          SpanId: hex(record.spanId),
          TraceFlags: (record.flags ?? 0) & 0xff,
          SeverityText: record.severityText ?? '',
          SeverityNumber: Math.min(255, Math.max(0, record.severityNumber ?? 0)),
          ServiceName: serviceName,
          Body: valueText(record.body),
          ResourceSchemaUrl: rl.schemaUrl ?? '',
          ResourceAttributes: resource,
          ScopeSchemaUrl: sl.schemaUrl ?? '',
          ScopeName: sl.scope?.name ?? '',
          ScopeVersion: sl.scope?.version ?? '',
          ScopeAttributes: scopeAttributes,
          LogAttributes: attributeMap(record.attributes),
          EventName: record.eventName ?? '',
        }
        drafts.push({
          label: `log record ${drafts.length}`,
          customerId: owner.customerId,
          adoptsRunCustomer: false,
          problem: owner.problem,
          times: [['timeUnixNano', nanosToMs(time)]],
          // A record the sender did not date is the same record when sent again.
          row: contentRow('otel_logs', 'log', body, stamped ? undefined : { ...body, Timestamp: '' }),
        })
      }
    }
  }
  return drafts
}
