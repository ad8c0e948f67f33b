// The OTLP receiver's metrics: data points of the OpenTelemetry JS SDK, serialized by the official
// OTLP serializer, land in the collector exporter's tables: sums in otel_metrics_sum, gauges in
// otel_metrics_gauge, histograms in otel_metrics_histogram, each point once.
import { ProtobufMetricsSerializer } from '@opentelemetry/otlp-transformer'
import { resourceFromAttributes } from '@opentelemetry/resources'
import { MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { chQuery } from '../../src/db/clickhouse.ts'
import { startTestSteward, type TestSteward } from '../helpers/app.ts'
import { shipAll } from './otlp-support.ts'
import { ingestConfig, uniqueCustomer } from './support.ts'

let t: TestSteward

beforeAll(async () => {
  t = await startTestSteward({
    file: { ingest: ingestConfig({ heartbeatIntervalMs: 0, relay: { enabled: false } }) },
  })
})
afterAll(async () => {
  await t?.stop()
})

/** A reader that collects when asked (what a periodic reader does on its timer). */
class OnDemandReader extends MetricReader {
  protected async onForceFlush() {}
  protected async onShutdown() {}
}

async function collect(customer: string) {
  const reader = new OnDemandReader()
  const provider = new MeterProvider({
    resource: resourceFromAttributes({ 'service.name': 'agent', 'steward.customer_id': customer }),
    readers: [reader],
  })
  const meter = provider.getMeter('steward-test', '1.0.0')
  meter.createCounter('gen_ai.requests', { unit: '{request}' }).add(3, { model: 'gpt-x' })
  meter.createGauge('queue.depth').record(7.5, { pool: 'default' })
  const latency = meter.createHistogram('gen_ai.client.operation.duration', { unit: 's' })
  for (const v of [0.2, 0.4, 3]) latency.record(v, { model: 'gpt-x' })
  const { resourceMetrics } = await reader.collect()
  await provider.shutdown()
  return ProtobufMetricsSerializer.serializeRequest(resourceMetrics)!
}

describe('OTLP metrics', () => {
  it('stores sums, gauges and histograms in their tables, each data point once', async () => {
    const customer = uniqueCustomer('metrics')
    const body = await collect(customer)
    for (let i = 0; i < 2; i++) {
      const res = await t.api('POST', '/v1/otlp/v1/metrics', body, undefined, {
        'content-type': 'application/x-protobuf',
      })
      expect(res.status).toBe(200)
    }
    await shipAll(t)
    const q = (sql: string) => chQuery<Record<string, unknown>>(t.deps.clickhouse!, sql, { c: customer })
    expect(
      await q(
        'SELECT MetricName, MetricUnit, Attributes, Value, IsMonotonic, AggregationTemporality FROM otel_metrics_sum WHERE CustomerId = {c:String}',
      ),
    ).toEqual([
      {
        MetricName: 'gen_ai.requests',
        MetricUnit: '{request}',
        Attributes: { model: 'gpt-x' },
        Value: 3,
        IsMonotonic: true,
        AggregationTemporality: 2,
      },
    ])
    expect(
      await q('SELECT MetricName, Attributes, Value FROM otel_metrics_gauge WHERE CustomerId = {c:String}'),
    ).toEqual([{ MetricName: 'queue.depth', Attributes: { pool: 'default' }, Value: 7.5 }])
    const [histogram] = await q(
      'SELECT MetricName, Count, Sum, Min, Max, length(BucketCounts) = length(ExplicitBounds) + 1 AS shaped, arraySum(BucketCounts) AS counted, ServiceName FROM otel_metrics_histogram WHERE CustomerId = {c:String}',
    )
    expect(histogram).toEqual({
      MetricName: 'gen_ai.client.operation.duration',
      Count: 3,
      Sum: 3.6,
      Min: 0.2,
      Max: 3,
      shaped: 1,
      counted: 3,
      ServiceName: 'agent',
    })
  })
})
