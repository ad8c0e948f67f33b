// Shared OpenAPI helpers: a router factory whose validation errors are problem+json naming each
// field, the Problem schema, and the error responses routes declare (each status with its own
// description, from the same table that maps error codes to statuses).
import { OpenAPIHono, z } from '@hono/zod-openapi'
import { type ErrorCode, ValidationError, zodFields } from '../errors.ts'
import type { AppEnv } from './auth.ts'
import { PROBLEMS } from './errors.ts'
import { badTextFields } from './text.ts'

/**
 * A module router: validation failures of params, query and body become a 400 problem naming each
 * field, and so does any string that breaks the text rule (src/http/text.ts), in every route.
 */
export function createRouter(): OpenAPIHono<AppEnv> {
  return new OpenAPIHono<AppEnv>({
    defaultHook: (result) => {
      const where = result.target === 'json' ? [] : [result.target]
      const fields = [
        ...(result.success ? [] : zodFields(result.error, where)),
        // On failure the validator still hands the hook the raw input as `data`.
        ...badTextFields((result as { data?: unknown }).data, where),
      ]
      if (fields.length) throw new ValidationError(fields)
    },
  })
}

export const ProblemSchema = z
  .looseObject({
    type: z.string(),
    title: z.string(),
    status: z.number().int(),
    detail: z.string(),
    errors: z
      .array(z.object({ path: z.string(), message: z.string(), code: z.string().optional() }))
      .optional(),
    retryAfterSeconds: z.number().optional(),
  })
  .openapi('Problem', { description: 'RFC 9457 problem details; extension members carry machine detail' })

const descriptions: Record<ErrorCode, string> = {
  bad_request: 'Malformed request',
  invalid: 'Invalid input; `errors` names each field',
  unauthorized: 'Missing or unknown bearer token',
  forbidden: 'The token may not act on this resource',
  not_found: 'Not found, or not visible to this token',
  conflict: "The resource's current state does not allow this",
  payload_too_large: 'The body (or the batch) is over its limit',
  unsupported_media_type: 'Content type or encoding not supported',
  unprocessable: 'Well-formed input that cannot be accepted; `errors` names each field',
  rate_limited: 'Too many requests; retry after `Retry-After` seconds',
  unavailable: 'Temporarily unable to accept this; retry after `Retry-After` seconds',
}

/** The OpenAPI responses of the given error codes (one per status; 400 describes both 400 codes). */
export function problems(...codes: ErrorCode[]) {
  const out: Record<
    number,
    { description: string; content: Record<string, { schema: typeof ProblemSchema }> }
  > = {}
  for (const code of codes) {
    const status = PROBLEMS[code].status
    const description = out[status]
      ? `${out[status].description}; or: ${descriptions[code]}`
      : descriptions[code]
    out[status] = { description, content: { 'application/problem+json': { schema: ProblemSchema } } }
  }
  return out
}

/** The error responses of every authenticated route. */
export const errorResponses = problems('invalid', 'unauthorized', 'forbidden', 'not_found')

export const jsonContent = <T extends z.ZodType>(schema: T, description: string) => ({
  description,
  content: { 'application/json': { schema } },
})

export const security = [{ bearerAuth: [] }]

/** The path of a resource keyed by a PostgreSQL serial: `{id}`, a positive integer. */
export const SerialIdParams = z.object({
  id: z.coerce
    .number()
    .int()
    .positive()
    .openapi({ param: { name: 'id', in: 'path' } }),
})
