// Domain errors: what went wrong, as a code. Domain code (stores, the scheduler's jobs, CLI paths)
// throws these and knows nothing of HTTP; the HTTP edge (src/http/errors.ts) is the only place
// that maps a code to a status and a problem+json body, so a scheduled close and an API call that
// fail the same way fail with the same error.

import type { z } from 'zod'

/** Every code a domain error may carry; src/http/errors.ts maps each to one HTTP status. */
export type ErrorCode =
  | 'bad_request'
  | 'invalid'
  | 'unprocessable'
  | 'unauthorized'
  | 'forbidden'
  | 'not_found'
  | 'conflict'
  | 'payload_too_large'
  | 'unsupported_media_type'
  | 'rate_limited'
  | 'unavailable'

export interface FieldProblem {
  /** JSON path of the field, e.g. `steps.2.dependsOn.0`; for NDJSON/array bodies it starts with the index. */
  path: string
  message: string
  code?: string
}

export class DomainError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    /** Machine-readable detail that travels with the error (problem+json extension members). */
    readonly detail: Record<string, unknown> = {},
  ) {
    super(message)
    this.name = new.target.name
  }
}

/** A request that is malformed in a way no field names (e.g. a body that is not JSON). */
export class BadRequestError extends DomainError {
  constructor(message: string) {
    super('bad_request', message)
  }
}

/**
 * Input that failed validation, each field named: `invalid` for shape errors (400),
 * `unprocessable` for well-formed input that cannot be accepted (422).
 */
export class ValidationError extends DomainError {
  constructor(
    readonly fields: FieldProblem[],
    message = `${fields.length} field${fields.length === 1 ? '' : 's'} failed validation`,
    kind: 'invalid' | 'unprocessable' = 'invalid',
  ) {
    super(kind, message, { errors: fields })
  }
}

export class UnauthorizedError extends DomainError {
  constructor(message = 'a valid bearer token is required') {
    super('unauthorized', message)
  }
}

export class ForbiddenError extends DomainError {
  constructor(message = 'this token may not do that', detail: Record<string, unknown> = {}) {
    super('forbidden', message, detail)
  }
}

export class NotFoundError extends DomainError {
  constructor(what: string) {
    super('not_found', `${what} not found`)
  }
}

/** The resource is in a state that does not allow the action (e.g. resuming a succeeded run). */
export class ConflictError extends DomainError {
  constructor(message: string) {
    super('conflict', message)
  }
}

export class PayloadTooLargeError extends DomainError {
  constructor(message: string, detail: Record<string, unknown> = {}) {
    super('payload_too_large', message, detail)
  }
}

export class UnsupportedMediaTypeError extends DomainError {
  constructor(message: string) {
    super('unsupported_media_type', message)
  }
}

/** Back-pressure: the caller should retry after `retryAfterSeconds`. */
export class BackpressureError extends DomainError {
  constructor(
    kind: 'rate_limited' | 'unavailable',
    message: string,
    readonly retryAfterSeconds: number,
  ) {
    super(kind, message, { retryAfterSeconds })
  }
}

/** The fields of a zod error, with `prefix` before each path (e.g. the query or a body index). */
export function zodFields(error: z.ZodError, prefix: (string | number)[] = []): FieldProblem[] {
  return error.issues.map((i) => ({
    path: [...prefix, ...i.path].map(String).join('.') || '(body)',
    message: i.message,
    code: i.code,
  }))
}
