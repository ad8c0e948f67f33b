// One error shape for the whole API: RFC 9457 problem+json with `type`, `title`, `status`,
// `detail` and, for validation, `errors[]` naming each field. Domain code throws the coded errors
// of src/errors.ts; `problemResponse` is the only place that turns an error into a response, and
// PROBLEMS the only place that gives a code its status.
import type { Context } from 'hono'
import { HTTPException } from 'hono/http-exception'
import { BackpressureError, DomainError, type ErrorCode, type FieldProblem } from '../errors.ts'

export interface Problem {
  type: string
  title: string
  status: number
  detail: string
  errors?: FieldProblem[]
  [extra: string]: unknown
}

/** Status, title and problem type of each error code. */
export const PROBLEMS: Record<ErrorCode, { status: number; title: string; slug: string }> = {
  bad_request: { status: 400, title: 'Bad Request', slug: 'bad-request' },
  invalid: { status: 400, title: 'Validation failed', slug: 'validation-failed' },
  unauthorized: { status: 401, title: 'Unauthorized', slug: 'unauthorized' },
  forbidden: { status: 403, title: 'Forbidden', slug: 'forbidden' },
  not_found: { status: 404, title: 'Not Found', slug: 'not-found' },
  conflict: { status: 409, title: 'Conflict', slug: 'conflict' },
  payload_too_large: { status: 413, title: 'Payload Too Large', slug: 'payload-too-large' },
  unsupported_media_type: { status: 415, title: 'Unsupported Media Type', slug: 'unsupported-media-type' },
  unprocessable: { status: 422, title: 'Unprocessable content', slug: 'validation-failed' },
  rate_limited: { status: 429, title: 'Too Many Requests', slug: 'rate-limited' },
  unavailable: { status: 503, title: 'Service Unavailable', slug: 'unavailable' },
}

const problemType = (slug: string) => `https://steward.dev/problems/${slug}`

/** The problem+json body and headers of a domain error. */
export function toProblem(err: DomainError): { problem: Problem; headers: Record<string, string> } {
  const p = PROBLEMS[err.code]
  const headers: Record<string, string> = {}
  if (err.code === 'unauthorized') headers['WWW-Authenticate'] = 'Bearer realm="steward"'
  if (err instanceof BackpressureError)
    headers['Retry-After'] = String(Math.max(1, Math.ceil(err.retryAfterSeconds)))
  return {
    problem: {
      type: problemType(p.slug),
      title: p.title,
      status: p.status,
      detail: err.message,
      ...err.detail,
    },
    headers,
  }
}

export function problemJson(c: Context, p: Problem, headers: Record<string, string> = {}): Response {
  return c.body(JSON.stringify(p), p.status as 400, {
    ...headers,
    'Content-Type': 'application/problem+json',
  })
}

const statusTitles: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  413: 'Payload Too Large',
  415: 'Unsupported Media Type',
  500: 'Internal Server Error',
}

/** Maps any thrown value to problem+json. Unknown errors are a 500 whose detail reveals nothing. */
export function problemResponse(c: Context, err: unknown, onUnexpected: (err: unknown) => void): Response {
  if (err instanceof DomainError) {
    const { problem, headers } = toProblem(err)
    return problemJson(c, problem, headers)
  }
  if (err instanceof HTTPException) {
    const status = err.status
    const detail =
      status === 400 && /json/i.test(err.message)
        ? 'the request body is not valid JSON'
        : err.message || 'request refused'
    return problemJson(c, { type: 'about:blank', title: statusTitles[status] ?? 'Error', status, detail })
  }
  onUnexpected(err)
  return problemJson(c, {
    type: 'about:blank',
    title: 'Internal Server Error',
    status: 500,
    detail: 'an unexpected error occurred; it has been logged',
  })
}
