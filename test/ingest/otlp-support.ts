// Shared support for the OTLP receiver tests: spans and log records made by the OpenTelemetry JS
// SDK (recorded in memory), and sending them with an official exporter.
import { randomBytes } from 'node:crypto'
import type { Attributes, Context, SpanKind, Tracer } from '@opentelemetry/api'
import type { Logger } from '@opentelemetry/api-logs'
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer'
import { resourceFromAttributes } from '@opentelemetry/resources'
import {
  InMemoryLogRecordExporter,
  LoggerProvider,
  type ReadableLogRecord,
  SimpleLogRecordProcessor,
} from '@opentelemetry/sdk-logs'
import {
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
  TracerProvider,
} from '@opentelemetry/sdk-trace'
import type { ClickHouseClient } from '../../src/db/clickhouse.ts'
import type { Pool } from '../../src/db/postgres.ts'
import { ingestConfigSchema } from '../../src/ingest/config.ts'
import { OutboxRelay } from '../../src/ingest/index.ts'
import { quietLog } from '../helpers/db.ts'

/** Spans `build` makes with a tracer of a provider with these resource attributes. */
export async function recordSpans(
  resource: Attributes,
  build: (tracer: Tracer) => void | Promise<void>,
): Promise<ReadableSpan[]> {
  const memory = new InMemorySpanExporter()
  const provider = new TracerProvider({
    resource: resourceFromAttributes(resource),
    spanProcessors: [new SimpleSpanProcessor({ exporter: memory })],
  })
  await build(provider.getTracer('steward-test', '1.0.0'))
  await provider.forceFlush()
  const spans = memory.getFinishedSpans()
  await provider.shutdown()
  return spans
}

/** Log records `build` emits with a logger of a provider with these resource attributes. */
export async function recordLogs(
  resource: Attributes,
  build: (logger: Logger) => void,
): Promise<ReadableLogRecord[]> {
  const memory = new InMemoryLogRecordExporter()
  const provider = new LoggerProvider({
    resource: resourceFromAttributes(resource),
    processors: [new SimpleLogRecordProcessor({ exporter: memory })],
  })
  build(provider.getLogger('steward-test', '1.0.0'))
  await provider.forceFlush()
  const records = memory.getFinishedLogRecords()
  await provider.shutdown()
  return records
}

interface Exporter<T> {
  export(items: T[], done: (r: { code: number; error?: Error }) => void): void
  shutdown(): Promise<void>
}

/** Sends `items` with `exporter`; resolves with its result (code 0: success). */
export async function send<T>(exporter: Exporter<T>, items: T[]): Promise<{ code: number; error?: Error }> {
  const result = await new Promise<{ code: number; error?: Error }>((resolve) =>
    exporter.export(items, resolve),
  )
  await exporter.shutdown()
  return result
}

/** A GenAI model-call span, as instrumentations of the GenAI conventions make it. */
export function genAiSpan(
  tracer: Tracer,
  o: {
    name?: string
    kind?: SpanKind
    attributes: Attributes
    start: number
    end: number
    context?: Context
  },
): void {
  const span = tracer.startSpan(
    o.name ?? 'chat',
    { kind: o.kind, attributes: o.attributes, startTime: o.start },
    o.context,
  )
  span.end(o.end)
}

/** The binary OTLP body the official serializer makes (to send by hand, e.g. with a bad token). */
export const protobufSpans = (spans: ReadableSpan[]) => ProtobufTraceSerializer.serializeRequest(spans)!

/**
 * Ships everything in the outbox to ClickHouse now, with a relay of the test's own (the steward's
 * runs with `relay.enabled: false`, so no batch is in flight elsewhere when this returns).
 */
export function shipAll(steward: { deps: { pool: Pool; clickhouse?: ClickHouseClient } }): Promise<number> {
  return new OutboxRelay({
    pool: steward.deps.pool,
    clickhouse: steward.deps.clickhouse!,
    config: ingestConfigSchema.parse({}).relay,
    log: quietLog,
    instanceId: 'test-relay',
  }).drain()
}

/** A hand-written OTLP/JSON span (hex ids, times in ns as strings), for what an SDK would not send. */
export function jsonSpan(o: {
  traceId?: string
  spanId?: string
  parentSpanId?: string
  traceState?: string
  name?: string
  kind?: number
  startMs: number
  endMs?: number
  attributes?: Record<string, string | number>
}) {
  const ns = (ms: number) => `${BigInt(Math.round(ms)) * 1_000_000n}`
  return {
    traceId: o.traceId ?? randomBytes(16).toString('hex'),
    spanId: o.spanId ?? randomBytes(8).toString('hex'),
    ...(o.parentSpanId && { parentSpanId: o.parentSpanId }),
    ...(o.traceState && { traceState: o.traceState }),
    name: o.name ?? 'work',
    kind: o.kind ?? 1,
    startTimeUnixNano: ns(o.startMs),
    endTimeUnixNano: ns(o.endMs ?? o.startMs + 10),
    attributes: Object.entries(o.attributes ?? {}).map(([key, v]) => ({
      key,
      value: typeof v === 'number' ? { intValue: String(v) } : { stringValue: v },
    })),
  }
}

/** An OTLP/JSON ExportTraceServiceRequest of `spans` under one resource. */
export const jsonTraces = (
  spans: object[],
  resource: Record<string, string> = { 'service.name': 'agent' },
) => ({
  resourceSpans: [
    {
      resource: {
        attributes: Object.entries(resource).map(([key, v]) => ({ key, value: { stringValue: v } })),
      },
      scopeSpans: [{ scope: { name: 'hand' }, spans }],
    },
  ],
})
