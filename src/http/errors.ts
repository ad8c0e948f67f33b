// One error shape for the whole API: RFC 9457 problem+json with `type`, `title`, `status`,
// `detail` and, for validation, `errors[]` naming each field. Code throws these typed classes;
// `problemResponse` is the only place that turns an error into a response.
import type { Context } from 'hono'
import { HTTPException } from 'hono/http-exception'
import type { z } from 'zod'

export interface ProblemField {
  /** JSON path of the field, e.g. `steps.2.dependsOn.0`; for NDJSON/array bodies it starts with the index. */
  path: string
  message: string
  code?: string
}

export interface Problem {
  type: string
  title: string
  status: number
  detail: string
  errors?: ProblemField[]
  [extra: string]: unknown
}

const problemType = (slug: string) => `https://steward.dev/problems/${slug}`

export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly title: string,
    detail: string,
    readonly slug = 'about-blank',
    readonly extra: Record<string, unknown> = {},
    readonly headers: Record<string, string> = {},
  ) {
    super(detail)
    this.name = new.target.name
  }
  toProblem(): Problem {
    return {
      type: this.slug === 'about-blank' ? 'about:blank' : problemType(this.slug),
      title: this.title,
      status: this.status,
      detail: this.message,
      ...this.extra,
    }
  }
}

export class BadRequestError extends HttpError {
  constructor(detail: string, slug = 'bad-request') {
    super(400, 'Bad Request', detail, slug)
  }
}

/** Input that failed validation: 400 for shape errors, 422 for well-formed input that cannot be accepted. */
export class ValidationError extends HttpError {
  constructor(
    readonly errors: ProblemField[],
    detail = `${errors.length} field${errors.length === 1 ? '' : 's'} failed validation`,
    status: 400 | 422 = 400,
  ) {
    super(
      status,
      status === 400 ? 'Validation failed' : 'Unprocessable content',
      detail,
      'validation-failed',
      {
        errors,
      },
    )
  }
}

export class UnauthorizedError extends HttpError {
  constructor(detail = 'a valid bearer token is required') {
    super(401, 'Unauthorized', detail, 'unauthorized', {}, { 'WWW-Authenticate': 'Bearer realm="steward"' })
  }
}

export class ForbiddenError extends HttpError {
  constructor(detail = 'this token may not do that') {
    super(403, 'Forbidden', detail, 'forbidden')
  }
}

export class NotFoundError extends HttpError {
  constructor(what: string) {
    super(404, 'Not Found', `${what} not found`, 'not-found')
  }
}

export class ConflictError extends HttpError {
  constructor(detail: string) {
    super(409, 'Conflict', detail, 'conflict')
  }
}

export class PayloadTooLargeError extends HttpError {
  constructor(limitBytes: number) {
    super(413, 'Payload Too Large', `the body exceeds ${limitBytes} bytes`, 'payload-too-large', {
      limitBytes,
    })
  }
}

/** Back-pressure: the caller should retry after `retryAfterSeconds`. */
export class BackpressureError extends HttpError {
  constructor(status: 429 | 503, detail: string, retryAfterSeconds: number) {
    super(
      status,
      status === 429 ? 'Too Many Requests' : 'Service Unavailable',
      detail,
      status === 429 ? 'rate-limited' : 'unavailable',
      { retryAfterSeconds },
      { 'Retry-After': String(Math.max(1, Math.ceil(retryAfterSeconds))) },
    )
  }
}

export function zodFields(error: z.ZodError, prefix: (string | number)[] = []): ProblemField[] {
  return error.issues.map((i) => ({
    path: [...prefix, ...i.path].map(String).join('.') || '(body)',
    message: i.message,
    code: i.code,
  }))
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
  if (err instanceof HttpError) return problemJson(c, err.toProblem(), err.headers)
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
