// The `http` job kind: a webhook executor, so workers written in any language receive a step as an
// HTTP request. Every request goes through an egress policy (src/egress): a customer's step cannot
// reach loopback, private or metadata addresses unless the operator allowlisted them.
//
// Every request carries the step's idempotency key, its job, run and attempt, and the attempt's W3C
// trace context (`traceparent`, `tracestate`; these replace any the step's input set).
//
// Outcome: 2xx succeeds with `{ status, body }` (JSON when it parses; `truncated: true` and the text
// when the reply passed the policy's byte cap). A refused destination, a bad redirect, and other 4xx
// fail the step (validation, no retry); 408/409/425/429/5xx, timeouts and network errors are
// transient. The step's own `timeoutMs` aborts the request through ctx.signal; the policy's
// timeout bounds it in any case.
import { z } from 'zod'
import {
  EgressError,
  type EgressPolicy,
  type EgressResponse,
  isForbiddenRequestHeader,
} from '../egress/index.ts'
import { JobValidationError, TransientError } from './failures.ts'
import { defineHandler, type HandlerDefinition } from './handlers.ts'

const headerName = z
  .string()
  .regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,256}$/, 'must be an HTTP header name')
  .refine((n) => !isForbiddenRequestHeader(n), 'is set by the client (framing and hop-by-hop headers)')
// Node refuses control characters in values (no header injection); refused here, at submission.
const headerValue = z
  .string()
  .max(8192)
  .regex(/^[\t\x20-\x7e\x80-\xff]*$/, 'must not contain control characters')

export const httpInputSchema = z
  .object({
    url: z.url({ protocol: /^https?$/ }),
    method: z.enum(['GET', 'POST', 'PUT', 'PATCH', 'DELETE']).default('POST'),
    body: z.unknown().optional(),
    headers: z
      .record(headerName, headerValue)
      .refine((h) => Object.keys(h).length <= 64, 'at most 64 headers')
      .optional(),
  })
  .strict()

export type HttpInput = z.output<typeof httpInputSchema>

const retryableStatus = new Set([408, 409, 425, 429])

/** Headers Steward sets on every call: they go along on a redirect to another origin. */
const stewardHeaders = [
  'idempotency-key',
  'x-steward-job-id',
  'x-steward-run-id',
  'x-steward-attempt',
  'traceparent',
  'tracestate',
]

/** The `http` kind, sending through `policy`. */
export function httpHandler(policy: EgressPolicy): HandlerDefinition<HttpInput> {
  return defineHandler('http', httpInputSchema, async (i, ctx) => {
    let res: EgressResponse
    try {
      res = await policy.request(i.url, {
        method: i.method,
        signal: ctx.signal,
        headers: {
          'content-type': 'application/json',
          ...i.headers,
          'idempotency-key': ctx.idempotencyKey,
          'x-steward-job-id': ctx.jobId,
          'x-steward-run-id': ctx.runId,
          'x-steward-attempt': String(ctx.attempt),
          // The attempt's span: the receiver's spans join the run and this job (W3C trace context).
          traceparent: ctx.traceparent,
          tracestate: ctx.tracestate,
        },
        body: i.method === 'GET' || i.body === undefined ? undefined : JSON.stringify(i.body),
        keepOnCrossOrigin: stewardHeaders,
      })
    } catch (err) {
      if (ctx.signal.aborted) throw ctx.signal.reason
      if (err instanceof EgressError)
        throw err.permanent ? new JobValidationError(err.message) : new TransientError(err.message)
      throw new TransientError(`http: ${(err as Error).message}`)
    }
    if (res.status < 200 || res.status > 299) {
      const msg = `http: ${i.method} ${new URL(res.url).host} answered ${res.status}`
      if (res.status >= 500 || retryableStatus.has(res.status)) throw new TransientError(msg)
      throw new JobValidationError(msg)
    }
    const text = res.body.toString('utf8')
    if (res.truncated) return { status: res.status, body: text, truncated: true }
    let body: unknown = text
    try {
      body = text ? JSON.parse(text) : null
    } catch {}
    return { status: res.status, body }
  })
}
