// The OTLP receiver: what is refused. A body that is not a message of its signal is a 400 (nothing
// stored); an item that breaks a rule is refused alone and counted in partialSuccess (the rest are
// stored); limits answer 413, 415, 429 and 503 with Retry-After. Every error is a google.rpc.Status
// in the request's encoding; every JSON answer is checked against /openapi.json (t.api).
import { gzipSync } from 'node:zlib'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { chQuery } from '../../src/db/clickhouse.ts'
import { otlpTypes } from '../../src/ingest/otlp/proto.ts'
import { startTestSteward, type TestSteward } from '../helpers/app.ts'
import { jsonSpan, jsonTraces, protobufSpans, recordSpans, shipAll } from './otlp-support.ts'
import { ingestConfig, uniqueCustomer } from './support.ts'

let t: TestSteward
const PROTOBUF = { 'content-type': 'application/x-protobuf' }

beforeAll(async () => {
  t = await startTestSteward({
    file: {
      ingest: ingestConfig({
        heartbeatIntervalMs: 0,
        relay: { enabled: false },
        http: { maxEventsPerRequest: 50, maxEventBytes: 4096 },
        otlp: { maxBodyBytes: 64 * 1024 },
      }),
    },
  })
})
afterAll(async () => {
  await t?.stop()
})

const traces = (body: unknown, headers: Record<string, string> = {}) =>
  t.api('POST', '/v1/otlp/v1/traces', body, undefined, headers)

type Status = {
  code: number
  message: string
  details?: { '@type': string; fieldViolations: { field: string; description: string }[] }[]
}

const storedSpans = async (customer: string) => {
  await shipAll(t)
  return chQuery<{ SpanName: string }>(
    t.deps.clickhouse!,
    'SELECT SpanName FROM otel_traces WHERE CustomerId = {c:String} ORDER BY SpanName',
    { c: customer },
  )
}

describe('a body that is not an OTLP message', () => {
  it('is a 400 with a protobuf Status when it is not protobuf', async () => {
    const res = await traces(new TextEncoder().encode('this is not protobuf at all'), PROTOBUF)
    expect(res.status).toBe(400)
    expect(res.headers.get('content-type')).toBe('application/x-protobuf')
    const status = otlpTypes.status.decode(new Uint8Array(await res.arrayBuffer())) as unknown as Status
    expect(status.message).toMatch(/not a protobuf ExportTraceServiceRequest/)
  })

  it('is a 400 with a JSON Status naming the field when JSON is not OTLP/JSON', async () => {
    const bad = jsonTraces([{ ...jsonSpan({ startMs: Date.now() }), startTimeUnixNano: 'yesterday' }])
    const res = await traces(bad)
    expect(res.status).toBe(400)
    const status = (await res.json()) as Status
    expect(status.code).toBe(3)
    expect(status.details?.[0]).toMatchObject({
      '@type': 'type.googleapis.com/google.rpc.BadRequest',
      fieldViolations: [
        { field: '(body)', description: expect.stringMatching(/startTimeUnixNano: invalid integer/) },
      ],
    })
  })

  it('is a 400 when JSON does not parse, or an id is not hex', async () => {
    expect((await traces('{"resourceSpans": [')).status).toBe(400)
    const res = await traces(jsonTraces([{ ...jsonSpan({ startMs: Date.now() }), traceId: 'not-hex' }]))
    expect(res.status).toBe(400)
    expect(((await res.json()) as Status).message).toBeTypeOf('string')
  })

  it('is a 400 when gzip is not gzip, a 413 when it expands past the limit', async () => {
    const notGzip = await traces(JSON.stringify(jsonTraces([])), { 'content-encoding': 'gzip' })
    expect(notGzip.status).toBe(400)
    const bomb = gzipSync(Buffer.alloc(1024 * 1024, 32))
    const res = await traces(new Uint8Array(bomb), {
      'content-type': 'application/json',
      'content-encoding': 'gzip',
    })
    expect(res.status).toBe(413)
  })

  it('is a 415 in any other content type', async () => {
    const res = await traces('resourceSpans', { 'content-type': 'text/plain' })
    expect(res.status).toBe(415)
    expect(res.headers.get('content-type')).toBe('application/x-protobuf')
  })

  it('is a 413 past ingest.otlp.maxBodyBytes, or with more items than http.maxEventsPerRequest', async () => {
    expect((await traces(new Uint8Array(65 * 1024), PROTOBUF)).status).toBe(413)
    const many = Array.from({ length: 51 }, () => jsonSpan({ startMs: Date.now() }))
    const res = await traces(jsonTraces(many))
    expect(res.status).toBe(413)
    expect(((await res.json()) as Status).message).toMatch(/51 spans; at most 50/)
  })
})

describe('items refused alone (partialSuccess), the rest stored', () => {
  it('refuses a span breaking the text rule, a time out of bounds, an invalid id, impossible token counts', async () => {
    const customer = uniqueCustomer('partial')
    const now = Date.now()
    const body = jsonTraces(
      [
        jsonSpan({ name: 'good', startMs: now - 1000 }),
        jsonSpan({ name: 'nul', startMs: now - 1000, attributes: { note: 'a\u0000b' } }),
        jsonSpan({ name: 'future', startMs: now + 48 * 3_600_000 }),
        jsonSpan({ name: 'zero-trace', startMs: now - 1000, traceId: '0'.repeat(32) }),
        jsonSpan({
          name: 'cache-exceeds-input',
          startMs: now - 1000,
          attributes: { 'gen_ai.usage.input_tokens': 10, 'gen_ai.usage.cache_read.input_tokens': 20 },
        }),
      ],
      { 'service.name': 'agent', 'steward.customer_id': customer },
    )
    const res = await traces(body)
    expect(res.status).toBe(200)
    const { partialSuccess } = (await res.json()) as {
      partialSuccess: { rejectedSpans: string; errorMessage: string }
    }
    expect(partialSuccess.rejectedSpans).toBe('4')
    expect(partialSuccess.errorMessage).toMatch(
      /span 1 .*SpanAttributes\.note must not contain control character U\+0000/,
    )
    expect(partialSuccess.errorMessage).toMatch(
      /span 2 .*startTimeUnixNano must not be more than 24 h in the future/,
    )
    expect(partialSuccess.errorMessage).toMatch(/span 3 .*traceId must be 16 bytes, not all zero/)
    expect(partialSuccess.errorMessage).toMatch(/span 4 .*exceed gen_ai\.usage\.input_tokens \(10\)/)
    expect(await storedSpans(customer)).toEqual([{ SpanName: 'good' }])
  })

  it('refuses a span whose row is larger than http.maxEventBytes', async () => {
    const customer = uniqueCustomer('large')
    const res = await traces(
      jsonTraces(
        [
          jsonSpan({ name: 'large', startMs: Date.now(), attributes: { prompt: 'x'.repeat(5000) } }),
          jsonSpan({ name: 'small', startMs: Date.now() }),
        ],
        { 'steward.customer_id': customer },
      ),
    )
    const { partialSuccess } = (await res.json()) as {
      partialSuccess: { rejectedSpans: string; errorMessage: string }
    }
    expect(partialSuccess).toEqual({
      rejectedSpans: '1',
      errorMessage: expect.stringMatching(/span 0 .*larger than 4096 characters/),
    })
    expect(await storedSpans(customer)).toEqual([{ SpanName: 'small' }])
  })

  it('answers in protobuf to protobuf, with the count in partialSuccess', async () => {
    const spans = await recordSpans({ 'service.name': 'agent' }, (tracer) => {
      tracer.startSpan('ok', { startTime: Date.now() - 10 }).end(Date.now())
      tracer.startSpan('old', { startTime: Date.now() - 500 * 86_400_000 }).end(Date.now() - 500 * 86_400_000)
    })
    const res = await t.api('POST', '/v1/otlp/v1/traces', protobufSpans(spans), undefined, PROTOBUF)
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toBe('application/x-protobuf')
    const answer = otlpTypes.traces.response.decode(new Uint8Array(await res.arrayBuffer())) as unknown as {
      partialSuccess: { rejectedSpans: { toNumber(): number }; errorMessage: string }
    }
    expect(answer.partialSuccess.rejectedSpans.toNumber()).toBe(1)
    expect(answer.partialSuccess.errorMessage).toMatch(
      /span 1 .*must not be more than 400 days in the past \(factory history limit\)/,
    )
  })

  it('answers a full success with an empty message (partialSuccess unset)', async () => {
    const res = await traces(jsonTraces([jsonSpan({ startMs: Date.now() })]))
    expect(res.status).toBe(200)
    expect(await res.json()).toEqual({})
    const empty = await traces(jsonTraces([]))
    expect(await empty.json()).toEqual({})
  })

  it('refuses the data points of metrics it has no table for (exponential histograms, summaries)', async () => {
    const ns = `${BigInt(Date.now()) * 1_000_000n}`
    const res = await t.api('POST', '/v1/otlp/v1/metrics', {
      resourceMetrics: [
        {
          scopeMetrics: [
            {
              metrics: [
                {
                  name: 'requests',
                  sum: {
                    dataPoints: [{ timeUnixNano: ns, asInt: '3' }],
                    aggregationTemporality: 2,
                    isMonotonic: true,
                  },
                },
                { name: 'latency', summary: { dataPoints: [{ timeUnixNano: ns, count: '2', sum: 3 }] } },
              ],
            },
          ],
        },
      ],
    })
    expect(res.status).toBe(200)
    expect(await res.json()).toEqual({
      partialSuccess: {
        rejectedDataPoints: '1',
        errorMessage: expect.stringMatching(/summary metrics are not stored/),
      },
    })
  })
})

describe('back-pressure', () => {
  it('answers 429 with Retry-After while http.maxConcurrentRequests bodies are being read', async () => {
    const s = await startTestSteward({
      file: {
        ingest: ingestConfig({
          heartbeatIntervalMs: 0,
          relay: { enabled: false },
          http: { maxConcurrentRequests: 1 },
        }),
      },
    })
    try {
      let release!: () => void
      const held = new ReadableStream<Uint8Array>({
        start(controller) {
          controller.enqueue(new TextEncoder().encode('{"resourceSpans": ['))
          release = () => {
            controller.enqueue(new TextEncoder().encode(']}'))
            controller.close()
          }
        },
      })
      const first = s.fetch(
        new Request('http://steward.test/v1/otlp/v1/traces', {
          method: 'POST',
          headers: {
            authorization: 'Bearer test-admin-token-0123456789',
            'content-type': 'application/json',
          },
          body: held,
          duplex: 'half',
        } as RequestInit),
      )
      // The first body is being read until released; a second one is refused meanwhile.
      let second: Response
      for (;;) {
        second = await s.api('POST', '/v1/otlp/v1/traces', jsonTraces([]))
        if (second.status === 429) break
        await new Promise((r) => setTimeout(r, 10))
      }
      expect(second.headers.get('retry-after')).toBe('1')
      expect(((await second.json()) as Status).message).toMatch(/bodies are being read already/)
      release()
      expect((await first).status).toBe(200)
    } finally {
      await s.stop()
    }
  })

  it('answers 503 with Retry-After while the outbox is past http.maxBacklog', async () => {
    const s = await startTestSteward({
      file: {
        ingest: ingestConfig({ heartbeatIntervalMs: 0, relay: { enabled: false }, http: { maxBacklog: 20 } }),
      },
    })
    try {
      // Nothing ships (no relay): the outbox grows until the route refuses. (The outbox lag it
      // reads is cached for a second, so a few more requests may pass first.)
      let res: Response
      let sent = 0
      do {
        res = await s.api('POST', '/v1/otlp/v1/traces', jsonTraces([jsonSpan({ startMs: Date.now() })]))
        sent++
      } while (res.status === 200 && sent < 10_000)
      expect(res.status).toBe(503)
      expect(res.headers.get('retry-after')).toBe('30')
    } finally {
      await s.stop()
    }
  })
})
