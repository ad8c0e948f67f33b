// POST /v1/otlp/v1/logs in OTLP/JSON (as the collector's otlphttp exporter sends with
// encoding: json): answered 200 with an empty ExportLogsServiceResponse, stored once in otel_logs
// under the customer its resource names. (The protobuf form, from the official exporter:
// otlp-exporters.test.ts.)
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

const logs = (customer: string, at: number) => ({
  resourceLogs: [
    {
      resource: {
        attributes: [
          { key: 'service.name', value: { stringValue: 'agent' } },
          { key: 'steward.customer_id', value: { stringValue: customer } },
        ],
      },
      scopeLogs: [
        {
          scope: { name: 'agent-log' },
          logRecords: [
            {
              timeUnixNano: String(at * 1_000_000),
              severityNumber: 9,
              severityText: 'INFO',
              body: { stringValue: 'step build started' },
              attributes: [{ key: 'step', value: { stringValue: 'build' } }],
            },
          ],
        },
      ],
    },
  ],
})

describe('OTLP/JSON logs', () => {
  it('stores a log record under the customer its resource names', async () => {
    const customer = uniqueCustomer('logs')
    const at = Date.now() - 60_000
    const res = await t.api('POST', '/v1/otlp/v1/logs', logs(customer, at))
    expect(res.status).toBe(200)
    expect(await res.json()).toEqual({})
    await shipAll(t)
    const rows = await chQuery<{ Body: string; SeverityText: string; ServiceName: string }>(
      t.deps.clickhouse!,
      'SELECT Body, SeverityText, ServiceName FROM otel_logs WHERE CustomerId = {c:String}',
      { c: customer },
    )
    expect(rows).toEqual([{ Body: 'step build started', SeverityText: 'INFO', ServiceName: 'agent' }])
  })
})
