// Spans of an ExportTraceServiceRequest → drafts (drafts.ts): each span a row of `otel_traces`
// (the columns of the collector's ClickHouse exporter), a GenAI span with token counts also a usage
// event (genai.ts), and each span's hints of the Steward run and job it belongs to.
import type { Principal } from '../../http/auth.ts'
import { jobIdOfTraceState, runIdOfTrace } from '../trace-context.ts'
import { type Draft, resourceOwner } from './drafts.ts'
import { genAiUsage } from './genai.ts'
import {
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
  validId,
} from './values.ts'

interface Span {
  traceId?: Uint8Array
  spanId?: Uint8Array
  traceState?: string
  parentSpanId?: Uint8Array
  name?: string
  kind?: number
  startTimeUnixNano?: Int64
  endTimeUnixNano?: Int64
  attributes?: KeyValue[]
  events?: { timeUnixNano?: Int64; name?: string; attributes?: KeyValue[] }[]
  links?: { traceId?: Uint8Array; spanId?: Uint8Array; traceState?: string; attributes?: KeyValue[] }[]
  status?: { message?: string; code?: number } | null
}

export interface TracesRequest {
  resourceSpans?: {
    resource?: Resource | null
    scopeSpans?: { scope?: Scope | null; spans?: Span[] }[]
  }[]
}

const SPAN_KINDS = [
  'SPAN_KIND_UNSPECIFIED',
  'SPAN_KIND_INTERNAL',
  'SPAN_KIND_SERVER',
  'SPAN_KIND_CLIENT',
  'SPAN_KIND_PRODUCER',
  'SPAN_KIND_CONSUMER',
]
const STATUS_CODES = ['STATUS_CODE_UNSET', 'STATUS_CODE_OK', 'STATUS_CODE_ERROR']

export const countSpans = (r: TracesRequest): number => {
  let n = 0
  for (const rs of r.resourceSpans ?? []) for (const ss of rs.scopeSpans ?? []) n += ss.spans?.length ?? 0
  return n
}

/** A Steward id named by an attribute of the span or, failing that, of its resource. */
const named = (span: KeyValue[] | undefined, resource: KeyValue[] | undefined, key: string) =>
  stringAttribute(span, key) || stringAttribute(resource, key) || undefined

export function traceDrafts(request: TracesRequest, principal: Principal): Draft[] {
  const drafts: Draft[] = []
  for (const rs of request.resourceSpans ?? []) {
    const resourceAttributes = rs.resource?.attributes
    const owner = resourceOwner(principal, resourceAttributes)
    const resource = attributeMap(resourceAttributes)
    const serviceName = stringAttribute(resourceAttributes, 'service.name')
    for (const ss of rs.scopeSpans ?? []) {
      for (const span of ss.spans ?? []) {
        const traceId = hex(span.traceId)
        const spanId = hex(span.spanId)
        const label = `span ${drafts.length} (trace ${traceId || '-'}, span ${spanId || '-'})`
        const start = int64(span.startTimeUnixNano)
        const end = int64(span.endTimeUnixNano)
        const kind = span.kind ?? 0
        const attributes = span.attributes ?? []
        const events = span.events ?? []
        const links = span.links ?? []
        const body: Record<string, unknown> = {
          Timestamp: chTimeNanos(start),
          TraceId: traceId,
          SpanId: spanId,
          ParentSpanId: hex(span.parentSpanId),
          TraceState: span.traceState ?? '',
          SpanName: span.name ?? '',
          SpanKind: SPAN_KINDS[kind] ?? '',
          ServiceName: serviceName,
          ResourceAttributes: resource,
          ScopeName: ss.scope?.name ?? '',
          ScopeVersion: ss.scope?.version ?? '',
          SpanAttributes: attributeMap(attributes),
          Duration: (end > start ? end - start : 0n).toString(),
          StatusCode: STATUS_CODES[span.status?.code ?? 0] ?? '',
          StatusMessage: span.status?.message ?? '',
          'Events.Timestamp': events.map((e) => chTimeNanos(int64(e.timeUnixNano))),
          'Events.Name': events.map((e) => e.name ?? ''),
          'Events.Attributes': events.map((e) => attributeMap(e.attributes)),
          'Links.TraceId': links.map((l) => hex(l.traceId)),
          'Links.SpanId': links.map((l) => hex(l.spanId)),
          'Links.TraceState': links.map((l) => l.traceState ?? ''),
          'Links.Attributes': links.map((l) => attributeMap(l.attributes)),
          RunId: '',
          JobId: '',
        }
        const startMs = nanosToMs(start)
        const endMs = nanosToMs(end)
        const draft: Draft = {
          label,
          customerId: owner.customerId,
          adoptsRunCustomer: owner.adoptsRunCustomer,
          problem: owner.problem,
          times: [
            ['startTimeUnixNano', startMs],
            ['endTimeUnixNano', endMs],
          ],
          row: { table: 'otel_traces', id: `otlp:span:${traceId}${spanId}`, body },
          link: {
            runId: named(attributes, resourceAttributes, 'steward.run_id'),
            jobId: named(attributes, resourceAttributes, 'steward.job_id'),
            traceRunId: runIdOfTrace(traceId),
            stateJobId: jobIdOfTraceState(span.traceState ?? ''),
            parentSpanId: hex(span.parentSpanId),
          },
        }
        if (!validId(span.traceId, 16)) draft.problem ??= 'its traceId must be 16 bytes, not all zero'
        else if (!validId(span.spanId, 8)) draft.problem ??= 'its spanId must be 8 bytes, not all zero'
        else if (start === 0n) draft.problem ??= 'it has no startTimeUnixNano'
        const usage = genAiUsage(attributes, {
          kind,
          startMs,
          endMs,
          durationMs: Number(end - start) / 1e6,
        })
        if (typeof usage === 'string') draft.problem ??= usage
        else if (usage)
          draft.usage = {
            id: `otlp:usage:${traceId}${spanId}`,
            event: usage,
            projectId: named(attributes, resourceAttributes, 'steward.project_id') ?? '',
          }
        drafts.push(draft)
      }
    }
  }
  return drafts
}
