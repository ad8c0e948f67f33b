// The OTLP receiver against the official OpenTelemetry JS exporters (protobuf and JSON, traces and
// logs) over HTTP on loopback: GenAI spans become the customer's usage, priced with cache and
// reasoning tokens at their own prices; every span and log record lands in its OpenTelemetry table.
import { randomUUID } from 'node:crypto'
import { context, SpanKind, trace } from '@opentelemetry/api'
import { SeverityNumber } from '@opentelemetry/api-logs'
import { OTLPLogExporter as JsonLogExporter } from '@opentelemetry/exporter-logs-otlp-http'
import { OTLPLogExporter as ProtoLogExporter } from '@opentelemetry/exporter-logs-otlp-proto'
import { OTLPTraceExporter as JsonTraceExporter } from '@opentelemetry/exporter-trace-otlp-http'
import { OTLPTraceExporter as ProtoTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { chQuery } from '../../src/db/clickhouse.ts'
import { startTestSteward, type TestSteward } from '../helpers/app.ts'
import { genAiSpan, recordLogs, recordSpans, send, shipAll } from './otlp-support.ts'
import { ingestConfig, uniqueCustomer } from './support.ts'

let t: TestSteward

const PRICES = {
  currency: 'USD',
  models: [
    {
      model: 'gpt-x',
      effectiveFrom: '2020-01-01',
      inputPerMillion: 3,
      outputPerMillion: 15,
      cacheReadPerMillion: 0.3,
      cacheWritePerMillion: 3.75,
      reasoningPerMillion: 60,
    },
  ],
  pools: [],
}

beforeAll(async () => {
  t = await startTestSteward({
    listen: true,
    file: { ingest: ingestConfig({ heartbeatIntervalMs: 0, relay: { enabled: false } }), prices: PRICES },
  })
})
afterAll(async () => {
  await t?.stop()
})

async function customerWithToken(label: string): Promise<[string, string]> {
  const id = uniqueCustomer(label)
  expect((await t.api('POST', '/v1/customers', { id, name: label })).status).toBe(201)
  const { token } = (await (await t.api('POST', `/v1/customers/${id}/tokens`, {})).json()) as {
    token: string
  }
  return [id, token]
}

const exporterOptions = (signal: 'traces' | 'logs', token: string) => ({
  url: `${t.url}/v1/otlp/v1/${signal}`,
  headers: { Authorization: `Bearer ${token}` },
})

const month = (ms: number) => new Date(ms).toISOString().slice(0, 7)

/** The spans of an agent's work: two model calls with usage, an agent span summing them, an HTTP call. */
const agentSpans = (at: number) =>
  recordSpans({ 'service.name': 'support-agent' }, (tracer) => {
    genAiSpan(tracer, {
      name: 'chat gpt-x',
      kind: SpanKind.CLIENT,
      start: at - 3_000,
      end: at - 2_000,
      attributes: {
        'gen_ai.operation.name': 'chat',
        'gen_ai.provider.name': 'openai',
        'gen_ai.request.model': 'gpt-x-latest',
        'gen_ai.response.model': 'gpt-x',
        'gen_ai.usage.input_tokens': 1000,
        'gen_ai.usage.cache_read.input_tokens': 600,
        'gen_ai.usage.cache_creation.input_tokens': 200,
        'gen_ai.usage.output_tokens': 500,
        'gen_ai.usage.reasoning.output_tokens': 100,
      },
    })
    genAiSpan(tracer, {
      name: 'chat gpt-x',
      kind: SpanKind.CLIENT,
      start: at - 2_000,
      end: at - 1_500,
      attributes: {
        'gen_ai.operation.name': 'chat',
        'gen_ai.request.model': 'gpt-x',
        'gen_ai.usage.input_tokens': 2000,
        'gen_ai.usage.output_tokens': 300,
      },
    })
    // An in-process agent's span carries the sum of its model calls: not counted again.
    genAiSpan(tracer, {
      name: 'invoke_agent support',
      kind: SpanKind.INTERNAL,
      start: at - 3_000,
      end: at - 1_000,
      attributes: {
        'gen_ai.operation.name': 'invoke_agent',
        'gen_ai.usage.input_tokens': 3000,
        'gen_ai.usage.output_tokens': 800,
      },
    })
    genAiSpan(tracer, {
      name: 'GET /tickets',
      kind: SpanKind.SERVER,
      start: at - 3_500,
      end: at - 3_400,
      attributes: { 'http.request.method': 'GET', 'http.response.status_code': 200 },
    })
  })

// By hand (docs/sla.md, "Cost"): the first call: (1000 − 600 − 200) × 3 + 600 × 0.3 + 200 × 3.75
// + (500 − 100) × 15 + 100 × 60 = 600 + 180 + 750 + 6000 + 6000 = 13,530 per million; the second:
// 2000 × 3 + 300 × 15 = 10,500 per million. Together 0.02403 USD.
const EXPECTED_COST = 0.02403

async function monthCost(customerId: string, token: string, at: number) {
  await shipAll(t)
  const res = await t.api(
    'GET',
    `/v1/sla/status?customerId=${customerId}&month=${month(at)}`,
    undefined,
    token,
  )
  expect(res.status).toBe(200)
  const body = (await res.json()) as { customers: { customerId: string; cost: Record<string, unknown> }[] }
  return body.customers.find((c) => c.customerId === customerId)!.cost
}

describe('the official OTLP exporters send GenAI spans', () => {
  for (const [encoding, Exporter] of [
    ['protobuf', ProtoTraceExporter],
    ['JSON', JsonTraceExporter],
  ] as const) {
    it(`(${encoding}) and the customer's usage and cost equal what was sent, cache and reasoning tokens at their prices`, async () => {
      const [customer, token] = await customerWithToken(`genai-${encoding}`)
      const at = Date.now()
      const spans = await agentSpans(at)
      expect(await send(new Exporter(exporterOptions('traces', token)), spans)).toEqual({ code: 0 })

      const cost = await monthCost(customer, token, at)
      expect(cost).toMatchObject({
        currency: 'USD',
        inputTokens: 3000,
        outputTokens: 800,
        cacheReadTokens: 600,
        cacheWriteTokens: 200,
        reasoningTokens: 100,
        ai: EXPECTED_COST,
        unpriced: { models: [], pools: [] },
      })
      expect(cost.byModel).toEqual({
        'gpt-x': {
          inputTokens: 3000,
          outputTokens: 800,
          cacheReadTokens: 600,
          cacheWriteTokens: 200,
          reasoningTokens: 100,
          cost: EXPECTED_COST,
        },
      })
      // The dashboards' SQL prices the same usage the same way.
      const [sql] = await chQuery<{ cost: number; cr: string }>(
        t.deps.clickhouse!,
        `SELECT round(sum(cost), 9) AS cost, sum(cache_read_tokens) AS cr FROM cost_1h WHERE customer_id = {c:String}`,
        { c: customer },
      )
      expect(sql).toEqual({ cost: EXPECTED_COST, cr: 600 })

      // Every span is in otel_traces, the customer's, as the exporter's schema has it.
      const rows = await chQuery<{ SpanName: string; SpanKind: string; ServiceName: string; Source: string }>(
        t.deps.clickhouse!,
        `SELECT SpanName, SpanKind, ServiceName, Source FROM otel_traces WHERE CustomerId = {c:String} ORDER BY Timestamp, SpanName`,
        { c: customer },
      )
      expect(rows).toEqual([
        {
          SpanName: 'GET /tickets',
          SpanKind: 'SPAN_KIND_SERVER',
          ServiceName: 'support-agent',
          Source: 'customer',
        },
        {
          SpanName: 'chat gpt-x',
          SpanKind: 'SPAN_KIND_CLIENT',
          ServiceName: 'support-agent',
          Source: 'customer',
        },
        {
          SpanName: 'invoke_agent support',
          SpanKind: 'SPAN_KIND_INTERNAL',
          ServiceName: 'support-agent',
          Source: 'customer',
        },
        {
          SpanName: 'chat gpt-x',
          SpanKind: 'SPAN_KIND_CLIENT',
          ServiceName: 'support-agent',
          Source: 'customer',
        },
      ])
    })
  }

  it('stores a span sent twice (an exporter retrying) once, and counts its tokens once', async () => {
    const [customer, token] = await customerWithToken('retry')
    const at = Date.now()
    const spans = await agentSpans(at)
    expect(await send(new ProtoTraceExporter(exporterOptions('traces', token)), spans)).toEqual({ code: 0 })
    expect(await send(new JsonTraceExporter(exporterOptions('traces', token)), spans)).toEqual({ code: 0 })
    expect(await monthCost(customer, token, at)).toMatchObject({ inputTokens: 3000, ai: EXPECTED_COST })
    const [n] = await chQuery<{ n: string }>(
      t.deps.clickhouse!,
      'SELECT count() AS n FROM otel_traces WHERE CustomerId = {c:String}',
      { c: customer },
    )
    expect(n!.n).toBe(4)
  })
})

describe('the official OTLP exporters send log records', () => {
  for (const [encoding, Exporter] of [
    ['protobuf', ProtoLogExporter],
    ['JSON', JsonLogExporter],
  ] as const) {
    it(`(${encoding}) and each lands in otel_logs with its body, severity, attributes and trace context`, async () => {
      const [customer, token] = await customerWithToken(`logs-${encoding}`)
      const traceId = randomUUID().replaceAll('-', '')
      const spanId = traceId.slice(0, 16)
      const inSpan = trace.setSpanContext(context.active(), { traceId, spanId, traceFlags: 1 })
      const records = await recordLogs({ 'service.name': 'support-agent' }, (logger) => {
        logger.emit({
          severityNumber: SeverityNumber.WARN,
          severityText: 'WARN',
          body: 'rate limited by the provider',
          attributes: { 'gen_ai.provider.name': 'openai', retry: 2 },
          eventName: 'gen_ai.client.retry',
          context: inSpan,
        })
        logger.emit({ severityNumber: SeverityNumber.INFO, body: { answer: 'ok', tokens: [1, 2] } })
      })
      expect(await send(new Exporter(exporterOptions('logs', token)), records)).toEqual({ code: 0 })
      await shipAll(t)
      const rows = await chQuery<Record<string, unknown>>(
        t.deps.clickhouse!,
        `SELECT Body, SeverityText, SeverityNumber, ServiceName, LogAttributes, EventName, ScopeName, Source,
                TraceId, SpanId, TraceFlags
         FROM otel_logs WHERE CustomerId = {c:String} ORDER BY SeverityNumber DESC`,
        { c: customer },
      )
      expect(rows).toEqual([
        {
          Body: 'rate limited by the provider',
          SeverityText: 'WARN',
          SeverityNumber: 13,
          ServiceName: 'support-agent',
          LogAttributes: { 'gen_ai.provider.name': 'openai', retry: '2' },
          EventName: 'gen_ai.client.retry',
          ScopeName: 'steward-test',
          Source: 'customer',
          TraceId: traceId,
          SpanId: spanId,
          TraceFlags: 1,
        },
        {
          Body: '{"answer":"ok","tokens":[1,2]}',
          SeverityText: '',
          SeverityNumber: 9,
          ServiceName: 'support-agent',
          LogAttributes: {},
          EventName: '',
          ScopeName: 'steward-test',
          Source: 'customer',
          TraceId: '',
          SpanId: '',
          TraceFlags: 0,
        },
      ])
    })
  }
})
