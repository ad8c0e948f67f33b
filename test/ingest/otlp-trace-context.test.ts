// Trace context out and back (docs/telemetry.md, "Trace context"): a run is a trace, each job
// attempt a span; an `http` step hands the attempt's `traceparent` to an agent on loopback, whose
// spans (sent with the official OTLP exporter and the customer's token) come back linked to the run
// and job, and whose GenAI usage lands on the run's project, run type, job and pool. A customer's
// span that names (by attribute or trace) a run that is not its customer's is refused.
import { randomUUID } from 'node:crypto'
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { defaultTextMapGetter, ROOT_CONTEXT, SpanKind, trace } from '@opentelemetry/api'
import { W3CTraceContextPropagator } from '@opentelemetry/core'
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { chQuery } from '../../src/db/clickhouse.ts'
import { egressConfigSchema } from '../../src/egress/index.ts'
import { ADMIN_TOKEN, startTestSteward, type TestSteward } from '../helpers/app.ts'
import { fastConfig, getRun, type Json, run, waitForRun } from '../orchestrator/helpers.ts'
import { genAiSpan, jsonSpan, jsonTraces, recordSpans, send, shipAll } from './otlp-support.ts'
import { ingestConfig } from './support.ts'

let t: TestSteward
let agent: Server
let agentUrl: string
const seen: IncomingHttpHeaders[] = []
const tokens: Record<string, string> = {}

/** The agent: continues the trace it is handed, calls a model, and sends its spans to Steward. */
async function startAgent(): Promise<void> {
  agent = createServer((req, res) => {
    seen.push(req.headers)
    const parent = new W3CTraceContextPropagator().extract(ROOT_CONTEXT, req.headers, defaultTextMapGetter)
    const customer = String(req.headers['x-customer'] ?? 'acme')
    void (async () => {
      const spans = await recordSpans({ 'service.name': 'agent' }, (tracer) => {
        const server = tracer.startSpan('POST /work', { kind: SpanKind.SERVER }, parent)
        genAiSpan(tracer, {
          name: 'chat gpt-x',
          kind: SpanKind.CLIENT,
          start: Date.now() - 20,
          end: Date.now(),
          context: trace.setSpan(parent, server),
          attributes: {
            'gen_ai.operation.name': 'chat',
            'gen_ai.request.model': 'gpt-x',
            'gen_ai.usage.input_tokens': 400,
            'gen_ai.usage.output_tokens': 40,
          },
        })
        server.end()
      })
      const exporter = new OTLPTraceExporter({
        url: `${t.url}/v1/otlp/v1/traces`,
        headers: { Authorization: `Bearer ${tokens[customer]}` },
      })
      const result = await send(exporter, spans)
      res.writeHead(result.code === 0 ? 200 : 500, { 'content-type': 'application/json' })
      res.end(JSON.stringify({ exported: spans.length }))
    })()
  })
  await new Promise<void>((r) => agent.listen(0, '127.0.0.1', r))
  agentUrl = `http://127.0.0.1:${(agent.address() as AddressInfo).port}`
}

beforeAll(async () => {
  await startAgent()
  t = await startTestSteward({
    listen: true,
    file: {
      orchestrator: fastConfig(),
      ingest: ingestConfig({ heartbeatIntervalMs: 0, relay: { enabled: false } }),
      egress: egressConfigSchema.parse({ allowlist: [new URL(agentUrl).host] }),
    },
  })
  for (const id of ['acme', 'globex']) {
    expect((await t.api('POST', '/v1/customers', { id, name: id })).status).toBe(201)
    tokens[id] = (
      (await (await t.api('POST', `/v1/customers/${id}/tokens`, {})).json()) as { token: string }
    ).token
  }
})
afterAll(async () => {
  await t?.stop()
  await new Promise((r) => agent?.close(r))
})

/** Submits a run of one `http` step to the agent as `customer`; waits for it to finish. */
async function agentRun(customer: string): Promise<{ created: Json; detail: Json }> {
  const res = await t.api(
    'POST',
    '/v1/runs',
    run(
      [
        {
          key: 'answer',
          kind: 'http',
          input: { url: `${agentUrl}/work`, headers: { 'x-customer': customer } },
        },
      ],
      {
        customerId: customer,
        projectId: 'support',
        type: 'ticket',
      },
    ),
    tokens[customer],
  )
  expect(res.status).toBe(201)
  const created = (await res.json()) as Json
  await waitForRun(t, created.id)
  return { created, detail: await getRun(t, created.id, tokens[customer]) }
}

describe('trace context out', () => {
  it("returns the run's trace id, and hands each attempt's traceparent to an http step", async () => {
    const { created, detail } = await agentRun('acme')
    expect(detail.status).toBe('succeeded')
    expect(created.traceId).toBe(created.id.replaceAll('-', ''))
    expect(detail.traceId).toBe(created.traceId)
    const job = detail.steps[0]
    const spanId = job.attempts[0].spanId
    expect(spanId).toMatch(/^[0-9a-f]{16}$/)
    const headers = seen.find((h) => h['x-steward-run-id'] === created.id)!
    expect(headers.traceparent).toBe(`00-${created.traceId}-${spanId}-01`)
    expect(headers.tracestate).toBe(`steward=${job.jobId}`)
  })
})

describe('spans back', () => {
  it('links the agent spans sent with it to the run and job, and its usage to their project, type and pool', async () => {
    const { created, detail } = await agentRun('acme')
    const jobId = detail.steps[0].jobId
    await shipAll(t)
    const spans = await chQuery<{ SpanName: string; RunId: string; JobId: string; ParentSpanId: string }>(
      t.deps.clickhouse!,
      'SELECT SpanName, RunId, JobId, ParentSpanId FROM otel_traces WHERE TraceId = {t:String} ORDER BY SpanName',
      { t: created.traceId },
    )
    // The agent's server span is the attempt's child; its model call, the grandchild, names the job
    // through the trace state it inherited.
    expect(spans).toEqual([
      {
        SpanName: 'POST /work',
        RunId: created.id,
        JobId: jobId,
        ParentSpanId: detail.steps[0].attempts[0].spanId,
      },
      {
        SpanName: 'chat gpt-x',
        RunId: created.id,
        JobId: jobId,
        ParentSpanId: expect.stringMatching(/^[0-9a-f]{16}$/),
      },
    ])
    const usage = await chQuery<Record<string, unknown>>(
      t.deps.clickhouse!,
      `SELECT customer_id, project_id, run_type, run_id, job_id, pool, model, input_tokens, output_tokens, source
       FROM events FINAL WHERE type = 'usage' AND run_id = {r:String}`,
      { r: created.id },
    )
    expect(usage).toEqual([
      {
        customer_id: 'acme',
        project_id: 'support',
        run_type: 'ticket',
        run_id: created.id,
        job_id: jobId,
        pool: detail.steps[0].pool,
        model: 'gpt-x',
        input_tokens: 400,
        output_tokens: 40,
        source: 'customer',
      },
    ])
  })

  it("links a span whose parent is an attempt's span to that attempt's job, without a trace state", async () => {
    const { created, detail } = await agentRun('acme')
    const name = `child-${randomUUID()}`
    const parentSpanId = detail.steps[0].attempts[0].spanId
    const res = await t.api(
      'POST',
      '/v1/otlp/v1/traces',
      jsonTraces([jsonSpan({ name, startMs: Date.now(), traceId: created.traceId, parentSpanId })]),
      tokens.acme,
    )
    expect(await res.json()).toEqual({})
    await shipAll(t)
    const rows = await chQuery<{ RunId: string; JobId: string }>(
      t.deps.clickhouse!,
      'SELECT RunId, JobId FROM otel_traces WHERE SpanName = {n:String}',
      { n: name },
    )
    expect(rows).toEqual([{ RunId: created.id, JobId: detail.steps[0].jobId }])
  })

  it("refuses a customer's span that names another customer's run or job, or lies in its trace", async () => {
    const { created, detail } = await agentRun('globex')
    const globexJob = detail.steps[0].jobId
    const now = Date.now()
    const res = await t.api(
      'POST',
      '/v1/otlp/v1/traces',
      jsonTraces([
        jsonSpan({ name: 'names-run', startMs: now, attributes: { 'steward.run_id': created.id } }),
        jsonSpan({ name: 'names-job', startMs: now, attributes: { 'steward.job_id': globexJob } }),
        jsonSpan({ name: 'in-trace', startMs: now, traceId: created.traceId }),
        jsonSpan({ name: 'no-such-run', startMs: now, attributes: { 'steward.run_id': randomUUID() } }),
        jsonSpan({ name: 'unlinked', startMs: now }),
      ]),
      tokens.acme,
    )
    const { partialSuccess } = (await res.json()) as {
      partialSuccess: { rejectedSpans: string; errorMessage: string }
    }
    expect(partialSuccess.rejectedSpans).toBe('4')
    expect(partialSuccess.errorMessage).toMatch(
      /span 0 .*it names run \S+, which is not a run of customer acme/,
    )
    expect(partialSuccess.errorMessage).toMatch(
      /span 1 .*it names run \S+, which is not a run of customer acme/,
    )
    expect(partialSuccess.errorMessage).toMatch(
      /span 2 .*its trace is run .*'s, which is not a run of customer acme/,
    )
    expect(partialSuccess.errorMessage).toMatch(/span 3 .*steward\.run_id .* is not a run of this customer/)
  })

  it("gives the admin's span in a run's trace the run's customer when its resource names none", async () => {
    const { created } = await agentRun('globex')
    const name = `admin-${randomUUID()}`
    const res = await t.api(
      'POST',
      '/v1/otlp/v1/traces',
      jsonTraces([jsonSpan({ name, startMs: Date.now(), traceId: created.traceId })]),
      ADMIN_TOKEN,
    )
    expect(await res.json()).toEqual({})
    await shipAll(t)
    const rows = await chQuery<{ CustomerId: string; RunId: string; Source: string }>(
      t.deps.clickhouse!,
      'SELECT CustomerId, RunId, Source FROM otel_traces WHERE SpanName = {n:String}',
      { n: name },
    )
    expect(rows).toEqual([{ CustomerId: 'globex', RunId: created.id, Source: 'operator' }])
  })
})
