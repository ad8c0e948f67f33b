// Data points of an ExportMetricsServiceRequest → drafts (drafts.ts): a sum's points are rows of
// `otel_metrics_sum`, a gauge's of `otel_metrics_gauge`, a histogram's of `otel_metrics_histogram`
// (the columns of the collector's ClickHouse exporter). Exponential histograms and summaries have
// no table here: their points are refused (counted in partialSuccess), never silently dropped.
import type { Principal } from '../../http/auth.ts'
import type { OtelTable } from '../targets.ts'
import { contentRow, type Draft, resourceOwner } from './drafts.ts'
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
} from './values.ts'

interface Exemplar {
  filteredAttributes?: KeyValue[]
  timeUnixNano?: Int64
  value?: string
  asDouble?: number
  asInt?: Int64
  spanId?: Uint8Array
  traceId?: Uint8Array
}

interface Point {
  attributes?: KeyValue[]
  startTimeUnixNano?: Int64
  timeUnixNano?: Int64
  flags?: number
  exemplars?: Exemplar[]
  // number data points
  value?: string
  asDouble?: number
  asInt?: Int64
  // histogram data points
  count?: Int64
  sum?: number | null
  bucketCounts?: Int64[]
  explicitBounds?: number[]
  min?: number | null
  max?: number | null
}

interface Metric {
  name?: string
  description?: string
  unit?: string
  data?: string
  gauge?: { dataPoints?: Point[] }
  sum?: { dataPoints?: Point[]; aggregationTemporality?: number; isMonotonic?: boolean }
  histogram?: { dataPoints?: Point[]; aggregationTemporality?: number }
  exponentialHistogram?: { dataPoints?: Point[] }
  summary?: { dataPoints?: Point[] }
}

export interface MetricsRequest {
  resourceMetrics?: {
    resource?: Resource | null
    schemaUrl?: string
    scopeMetrics?: { scope?: Scope | null; schemaUrl?: string; metrics?: Metric[] }[]
  }[]
}

const pointsOf = (m: Metric): Point[] => (m.data ? (m[m.data as 'gauge']?.dataPoints ?? []) : [])

export const countDataPoints = (r: MetricsRequest): number => {
  let n = 0
  for (const rm of r.resourceMetrics ?? [])
    for (const sm of rm.scopeMetrics ?? []) for (const m of sm.metrics ?? []) n += pointsOf(m).length
  return n
}

const TABLES: Record<string, OtelTable | undefined> = {
  sum: 'otel_metrics_sum',
  gauge: 'otel_metrics_gauge',
  histogram: 'otel_metrics_histogram',
}

/** A double as ClickHouse reads it from JSON (JSON has no NaN or infinities; ClickHouse reads them quoted). */
const float = (x: number | null | undefined): number | string =>
  x == null ? 0 : Number.isFinite(x) ? x : Number.isNaN(x) ? 'nan' : x > 0 ? 'inf' : '-inf'

const numberValue = (p: { value?: string; asDouble?: number; asInt?: Int64 }) =>
  p.value === 'asInt' ? Number(int64(p.asInt)) : float(p.asDouble)

export function metricDrafts(request: MetricsRequest, principal: Principal): Draft[] {
  const drafts: Draft[] = []
  for (const rm of request.resourceMetrics ?? []) {
    const resourceAttributes = rm.resource?.attributes
    const owner = resourceOwner(principal, resourceAttributes)
    const resource = attributeMap(resourceAttributes)
    const serviceName = stringAttribute(resourceAttributes, 'service.name')
    for (const sm of rm.scopeMetrics ?? []) {
      const scope = {
        ResourceAttributes: resource,
        ResourceSchemaUrl: rm.schemaUrl ?? '',
        ScopeName: sm.scope?.name ?? '',
        ScopeVersion: sm.scope?.version ?? '',
        ScopeAttributes: attributeMap(sm.scope?.attributes),
        ScopeDroppedAttrCount: sm.scope?.droppedAttributesCount ?? 0,
        ScopeSchemaUrl: sm.schemaUrl ?? '',
        ServiceName: serviceName,
      }
      for (const metric of sm.metrics ?? []) {
        const table = TABLES[metric.data ?? '']
        for (const point of pointsOf(metric)) {
          const time = int64(point.timeUnixNano)
          const exemplars = point.exemplars ?? []
          const body: Record<string, unknown> = {
            ...scope,
            MetricName: metric.name ?? '',
            MetricDescription: metric.description ?? '',
            MetricUnit: metric.unit ?? '',
            Attributes: attributeMap(point.attributes),
            StartTimeUnix: chTimeNanos(int64(point.startTimeUnixNano)),
            TimeUnix: chTimeNanos(time),
            Flags: point.flags ?? 0,
            'Exemplars.FilteredAttributes': exemplars.map((e) => attributeMap(e.filteredAttributes)),
            'Exemplars.TimeUnix': exemplars.map((e) => chTimeNanos(int64(e.timeUnixNano))),
            'Exemplars.Value': exemplars.map(numberValue),
            'Exemplars.SpanId': exemplars.map((e) => hex(e.spanId)),
            'Exemplars.TraceId': exemplars.map((e) => hex(e.traceId)),
          }
          if (metric.data === 'sum') {
            body.Value = numberValue(point)
            body.AggregationTemporality = metric.sum?.aggregationTemporality ?? 0
            body.IsMonotonic = !!metric.sum?.isMonotonic
          } else if (metric.data === 'gauge') body.Value = numberValue(point)
          else if (metric.data === 'histogram') {
            body.Count = int64(point.count).toString()
            body.Sum = float(point.sum)
            body.BucketCounts = (point.bucketCounts ?? []).map((c) => int64(c).toString())
            body.ExplicitBounds = (point.explicitBounds ?? []).map(float)
            body.Min = float(point.min)
            body.Max = float(point.max)
            body.AggregationTemporality = metric.histogram?.aggregationTemporality ?? 0
          }
          const draft: Draft = {
            label: `data point ${drafts.length} (metric ${JSON.stringify((metric.name ?? '').slice(0, 128))})`,
            customerId: owner.customerId,
            adoptsRunCustomer: false,
            problem: owner.problem,
            times: [['timeUnixNano', nanosToMs(time)]],
            row: contentRow(table ?? 'otel_metrics_gauge', 'metric', body),
          }
          if (!table)
            draft.problem ??= `${metric.data} metrics are not stored (Steward keeps sums, gauges and histograms)`
          else if (time === 0n) draft.problem ??= 'it has no timeUnixNano'
          drafts.push(draft)
        }
      }
    }
  }
  return drafts
}
