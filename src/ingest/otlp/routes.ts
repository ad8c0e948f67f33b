// POST /v1/otlp/v1/traces, /v1/otlp/v1/logs, /v1/otlp/v1/metrics: the OTLP/HTTP receiver, so an
// exporter's base URL is `…/v1/otlp` (docs/telemetry.md, "OTLP receiver"). Same tokens, limits and
// outbox as POST /v1/events: the body passes the shared door (gate.ts), is decoded (decode.ts),
// mapped (traces.ts, logs.ts, metrics.ts), admitted item by item (admit.ts) and written in one
// group commit; the 200 comes once every accepted item is durable. Answers are OTLP's (response.ts).

import type { OpenAPIHono } from '@hono/zod-openapi'
import { z } from '@hono/zod-openapi'
import { PayloadTooLargeError } from '../../errors.ts'
import type { AppEnv, Principal } from '../../http/auth.ts'
import { security } from '../../http/openapi.ts'
import { type ContractStarts, sourceOf } from '../admission.ts'
import type { IngestConfig } from '../config.ts'
import { type IngestGate, writeDurably } from '../gate.ts'
import type { GroupCommitter } from '../group-commit.ts'
import type { IngestMetrics } from '../metrics.ts'
import { OtlpAdmission, type RunLinks } from './admit.ts'
import { decodeRequest, encodingOf, type OtlpSignal, PROTOBUF, readBody } from './decode.ts'
import type { Draft } from './drafts.ts'
import { countLogRecords, type LogsRequest, logDrafts } from './logs.ts'
import { countDataPoints, type MetricsRequest, metricDrafts } from './metrics.ts'
import { exportResponse } from './response.ts'
import { countSpans, type TracesRequest, traceDrafts } from './traces.ts'

export interface OtlpRouteDeps {
  http: IngestConfig['http']
  otlp: IngestConfig['otlp']
  committer: GroupCommitter
  gate: IngestGate
  contractStarts?: ContractStarts
  runLinks?: RunLinks
  metrics?: IngestMetrics
  onWriteError: (err: unknown) => void
}

interface SignalMapping {
  noun: string
  count(request: unknown): number
  drafts(request: unknown, principal: Principal, now: number): Draft[]
}

const SIGNALS: Record<OtlpSignal, SignalMapping> = {
  traces: {
    noun: 'spans',
    count: (r) => countSpans(r as TracesRequest),
    drafts: (r, p) => traceDrafts(r as TracesRequest, p),
  },
  logs: {
    noun: 'log records',
    count: (r) => countLogRecords(r as LogsRequest),
    drafts: (r, p, now) => logDrafts(r as LogsRequest, p, now),
  },
  metrics: {
    noun: 'data points',
    count: (r) => countDataPoints(r as MetricsRequest),
    drafts: (r, p) => metricDrafts(r as MetricsRequest, p),
  },
}

// ---- OpenAPI: the request and answer shapes, in both encodings ----

const binary = (description: string) => ({
  schema: z.string().openapi({ format: 'binary', description }),
})
const StatusBody = z
  .object({
    code: z.number().int().optional().openapi({ description: 'gRPC status code (informative)' }),
    message: z.string().optional(),
    details: z
      .array(z.looseObject({ '@type': z.string() }))
      .optional()
      .openapi({ description: 'google.rpc.BadRequest naming each field of a 400' }),
  })
  .openapi('OtlpStatus', { description: 'google.rpc.Status (OTLP/JSON)' })
const statusContent = (description: string) => ({
  description,
  content: {
    [PROTOBUF]: binary('google.rpc.Status'),
    'application/json': { schema: StatusBody },
  },
})

function registerDocs(router: OpenAPIHono<AppEnv>, signal: OtlpSignal) {
  const item = { traces: 'Trace', logs: 'Logs', metrics: 'Metrics' }[signal]
  const rejected = { traces: 'rejectedSpans', logs: 'rejectedLogRecords', metrics: 'rejectedDataPoints' }[
    signal
  ]
  const data = { traces: 'resourceSpans', logs: 'resourceLogs', metrics: 'resourceMetrics' }[signal]
  const Response = z
    .object({
      partialSuccess: z
        .object({
          [rejected]: z
            .string()
            .regex(/^\d+$/)
            .openapi({ description: 'How many were refused (int64 as a string)' }),
          errorMessage: z.string().openapi({ description: 'Why (the first few, by item)' }),
        })
        .optional()
        .openapi({ description: 'Set only when items were refused' }),
    })
    .openapi(`Export${item}ServiceResponse`)
  const Request = z
    .looseObject({ [data]: z.array(z.looseObject({})) })
    .openapi(`Export${item}ServiceRequest`, {
      description: `OTLP/JSON (opentelemetry-proto collector/${signal === 'traces' ? 'trace' : signal}/v1): ids as hex, 64-bit integers as numbers or strings, enums as integers; unknown fields ignored`,
    })
  router.openAPIRegistry.registerPath({
    method: 'post',
    path: `/otlp/v1/${signal}`,
    tags: ['telemetry'],
    summary: `OTLP/HTTP ${signal} (protobuf or JSON, optionally gzip)`,
    description:
      `Export${item}ServiceRequest, answered in the request's encoding. Each ${SIGNALS[signal].noun.replace(/s$/, '')} is admitted on its own: ` +
      "one that breaks a rule (another customer, a time out of bounds, text, a run that is not the customer's) is refused and counted in " +
      '`partialSuccess`; the rest are stored once durable. Errors are google.rpc.Status messages. ' +
      (signal === 'traces'
        ? 'GenAI spans with token counts also become usage events (docs/telemetry.md).'
        : ''),
    security,
    request: {
      body: {
        required: true,
        content: {
          [PROTOBUF]: binary(`Export${item}ServiceRequest`),
          'application/json': { schema: Request },
        },
      },
    },
    responses: {
      200: {
        description: 'Accepted and durable; partialSuccess counts what was refused',
        content: {
          [PROTOBUF]: binary(`Export${item}ServiceResponse`),
          'application/json': { schema: Response },
        },
      },
      400: statusContent('Not a message of this signal; the BadRequest detail says what'),
      401: statusContent('Missing or unknown bearer token'),
      413: statusContent(
        `The body is over ingest.otlp.maxBodyBytes, or it holds more than http.maxEventsPerRequest ${SIGNALS[signal].noun}`,
      ),
      415: statusContent(
        'Content-Type is neither application/x-protobuf nor application/json, or the encoding not gzip',
      ),
      429: statusContent(
        'Too many bodies being read, writes saturated, or too many failed authentications; retry after Retry-After',
      ),
      503: statusContent(
        'The telemetry backlog is past its bound, or PostgreSQL refused the write; retry after Retry-After',
      ),
    },
  })
}

/** Adds the receiver's three routes to `router` (mounted under /v1). */
export function otlpRoutes(router: OpenAPIHono<AppEnv>, d: OtlpRouteDeps): void {
  const maxBytes = Math.min(d.otlp.maxBodyBytes, d.http.maxBodyBytes)
  for (const signal of Object.keys(SIGNALS) as OtlpSignal[]) {
    const mapping = SIGNALS[signal]
    registerDocs(router, signal)
    router.post(`/otlp/v1/${signal}`, async (c) => {
      const principal = c.var.principal
      const throttled = (n = 1) => d.metrics?.otlp.inc({ signal, outcome: 'throttled' }, n)
      const encoding = encodingOf(c.req.header('content-type'))
      let leave: () => void
      try {
        leave = await d.gate.enter()
      } catch (err) {
        throttled()
        throw err
      }
      let verdict: Awaited<ReturnType<OtlpAdmission['judge']>>
      try {
        const request = decodeRequest(signal, encoding, await readBody(c.req.raw, maxBytes))
        const n = mapping.count(request)
        if (n > d.http.maxEventsPerRequest)
          throw new PayloadTooLargeError(
            `the request holds ${n} ${mapping.noun}; at most ${d.http.maxEventsPerRequest} per request`,
            { maxEvents: d.http.maxEventsPerRequest },
          )
        const now = Date.now()
        const admission = new OtlpAdmission(principal, d.http, mapping.drafts(request, principal, now), now)
        verdict = await admission.judge(d.contractStarts, d.runLinks)
      } catch (err) {
        d.metrics?.otlp.inc({ signal, outcome: 'rejected' })
        throw err
      } finally {
        leave()
      }
      if (verdict.items.length) {
        try {
          await writeDurably(d.committer, verdict.items, sourceOf(principal), d.onWriteError)
        } catch (err) {
          throttled()
          throw err
        }
      }
      if (verdict.rejected) d.metrics?.otlp.inc({ signal, outcome: 'rejected' }, verdict.rejected)
      d.metrics?.otlp.inc({ signal, outcome: 'accepted' }, verdict.accepted)
      return exportResponse(c, signal, encoding, verdict.rejected, verdict.message)
    })
  }
}
