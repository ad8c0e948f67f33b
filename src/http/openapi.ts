// Shared OpenAPI helpers: a router factory whose validation errors are problem+json naming each
// field, and the response declarations every route repeats.
import { OpenAPIHono, z } from '@hono/zod-openapi'
import type { AppEnv } from './auth.ts'
import { ValidationError, zodFields } from './errors.ts'

/** A module router: validation failures of params, query and body become a 400 problem naming each field. */
export function createRouter(): OpenAPIHono<AppEnv> {
  return new OpenAPIHono<AppEnv>({
    defaultHook: (result) => {
      if (!result.success) {
        const where = result.target === 'json' ? [] : [result.target]
        throw new ValidationError(zodFields(result.error, where))
      }
    },
  })
}

export const ProblemSchema = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number().int(),
    detail: z.string(),
    errors: z
      .array(z.object({ path: z.string(), message: z.string(), code: z.string().optional() }))
      .optional(),
  })
  .openapi('Problem')

const problem = (description: string) => ({
  description,
  content: { 'application/problem+json': { schema: ProblemSchema } },
})

/** The error responses of an authenticated route, for its OpenAPI declaration. */
export const errorResponses = {
  400: problem('Invalid input; `errors` names each field'),
  401: problem('Missing or unknown bearer token'),
  403: problem('The token may not act on this resource'),
  404: problem('Not found, or not visible to this token'),
} as const

export const jsonContent = <T extends z.ZodType>(schema: T, description: string) => ({
  description,
  content: { 'application/json': { schema } },
})

export const security = [{ bearerAuth: [] }]
