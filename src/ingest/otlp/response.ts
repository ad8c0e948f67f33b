// OTLP/HTTP answers (docs/telemetry.md, "OTLP receiver"), in the encoding of the request (the spec:
// "the server MUST use the same Content-Type in the response as it received in the request"):
// - 200 with an Export<signal>ServiceResponse, its `partialSuccess` set only when items were
//   refused (their count and why);
// - every error (4xx, 5xx, those of authentication included) a google.rpc.Status whose message says
//   what went wrong, with a google.rpc.BadRequest naming each field of a 400; 429 and 503 carry
//   Retry-After. Domain errors are mapped to statuses by the same table as problem+json
//   (src/http/errors.ts); only the body differs.
import type { Context } from 'hono'
import { HTTPException } from 'hono/http-exception'
import type { Type } from 'protobufjs'
import protojson from 'protobufjs/ext/protojson.js'
import { DomainError, ValidationError } from '../../errors.ts'
import { toProblem } from '../../http/errors.ts'
import { encodingOf, type OtlpEncoding, type OtlpSignal, PROTOBUF } from './decode.ts'
import { otlpTypes } from './proto.ts'

const REJECTED: Record<OtlpSignal, string> = {
  traces: 'rejectedSpans',
  logs: 'rejectedLogRecords',
  metrics: 'rejectedDataPoints',
}

/** The spec's statuses, as gRPC codes in Status.code (informative: clients go by the HTTP status). */
const GRPC_CODE: Record<number, number> = {
  400: 3, // INVALID_ARGUMENT
  401: 16, // UNAUTHENTICATED
  403: 7, // PERMISSION_DENIED
  404: 5, // NOT_FOUND
  413: 8, // RESOURCE_EXHAUSTED
  415: 3,
  429: 8,
  503: 14, // UNAVAILABLE
}

function encode(
  c: Context,
  type: Type,
  message: Record<string, unknown>,
  encoding: OtlpEncoding,
  status: number,
  headers: Record<string, string> = {},
): Response {
  const body =
    encoding === 'json'
      ? JSON.stringify(protojson.toJson(type, message))
      : type.encode(type.fromObject(message)).finish()
  return c.body(body as string, status as 200, {
    ...headers,
    'Content-Type': encoding === 'json' ? 'application/json' : PROTOBUF,
  })
}

/** 200: every item accepted, or `rejected` of them refused for `why`. */
export function exportResponse(
  c: Context,
  signal: OtlpSignal,
  encoding: OtlpEncoding,
  rejected: number,
  why: string,
): Response {
  const message = rejected ? { partialSuccess: { [REJECTED[signal]]: rejected, errorMessage: why } } : {}
  return encode(c, otlpTypes[signal].response, message, encoding, 200)
}

/** The encoding of an error answer: the request's, protobuf when it declared neither. */
function answerEncoding(c: Context): OtlpEncoding {
  try {
    return encodingOf(c.req.header('content-type'))
  } catch {
    return 'protobuf'
  }
}

/** Any error on an OTLP route as a google.rpc.Status (unexpected ones: a 500 that reveals nothing). */
export function statusResponse(c: Context, err: unknown, onUnexpected: (err: unknown) => void): Response {
  let status = 500
  let text = 'an unexpected error occurred; it has been logged'
  let headers: Record<string, string> = {}
  const details: { typeUrl: string; value: Uint8Array }[] = []
  if (err instanceof DomainError) {
    const p = toProblem(err)
    status = p.problem.status
    text = p.problem.detail
    headers = p.headers
    if (err instanceof ValidationError)
      details.push({
        typeUrl: 'type.googleapis.com/google.rpc.BadRequest',
        value: otlpTypes.badRequest
          .encode({ fieldViolations: err.fields.map((f) => ({ field: f.path, description: f.message })) })
          .finish(),
      })
  } else if (err instanceof HTTPException) {
    status = err.status
    text = err.message || 'request refused'
  } else onUnexpected(err)
  return encode(
    c,
    otlpTypes.status,
    { code: GRPC_CODE[status] ?? 13, message: text, details },
    answerEncoding(c),
    status,
    headers,
  )
}
