// /v1/incident-silences: maintenance windows and silences (admin). An incident matching an active
// silence is recorded and shown but not paged; see lifecycle.ts.
import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi'
import type { Pool } from '../db/postgres.ts'
import { NotFoundError } from '../errors.ts'
import { type AppEnv, requireAdmin } from '../http/auth.ts'
import { errorResponses, jsonContent, security } from '../http/openapi.ts'

const Silence = z
  .object({
    id: z.number(),
    rule: z.string().nullable(),
    scope: z.string().nullable(),
    startsAt: z.string(),
    endsAt: z.string(),
    reason: z.string(),
  })
  .openapi('Silence')

export function silenceRoutes(app: OpenAPIHono<AppEnv>, pool: Pool): void {
  app.openapi(
    createRoute({
      method: 'post',
      path: '/incident-silences',
      tags: ['incidents'],
      summary: 'Create a silence / maintenance window: matching incidents are recorded, not paged (admin)',
      security,
      request: {
        body: {
          content: {
            'application/json': {
              schema: z
                .object({
                  rule: z.string().min(1).max(128).optional(),
                  scope: z.string().max(200).optional(),
                  startsAt: z.iso.datetime({ offset: true }).optional(),
                  endsAt: z.iso.datetime({ offset: true }),
                  reason: z.string().trim().min(1).max(1000),
                })
                .strict()
                .refine((b) => new Date(b.endsAt) > new Date(b.startsAt ?? Date.now()), {
                  path: ['endsAt'],
                  message: 'must be after startsAt (default now)',
                }),
            },
          },
          required: true,
        },
      },
      responses: { 201: jsonContent(Silence, 'Created'), ...errorResponses },
    }),
    async (c) => {
      requireAdmin(c.var.principal)
      const b = c.req.valid('json')
      const { rows } = await pool.query<{
        id: number
        rule: string | null
        scope: string | null
        starts_at: Date
        ends_at: Date
        reason: string
      }>(
        `INSERT INTO incident_silences (rule, scope, starts_at, ends_at, reason) VALUES ($1, $2, coalesce($3, now()), $4, $5) RETURNING *`,
        [b.rule ?? null, b.scope ?? null, b.startsAt ?? null, b.endsAt, b.reason],
      )
      const r = rows[0]!
      return c.json(
        {
          id: r.id,
          rule: r.rule,
          scope: r.scope,
          startsAt: r.starts_at.toISOString(),
          endsAt: r.ends_at.toISOString(),
          reason: r.reason,
        },
        201,
      )
    },
  )

  app.openapi(
    createRoute({
      method: 'delete',
      path: '/incident-silences/{id}',
      tags: ['incidents'],
      summary: 'End a silence now (admin)',
      security,
      request: {
        params: z.object({
          id: z.coerce
            .number()
            .int()
            .positive()
            .openapi({ param: { name: 'id', in: 'path' } }),
        }),
      },
      responses: { 204: { description: 'Ended' }, ...errorResponses },
    }),
    async (c) => {
      requireAdmin(c.var.principal)
      const { id } = c.req.valid('param')
      const { rowCount } = await pool.query(
        `UPDATE incident_silences SET ends_at = greatest(starts_at + interval '1 millisecond', now()) WHERE id = $1`,
        [id],
      )
      if (!rowCount) throw new NotFoundError(`silence ${id}`)
      return c.body(null, 204)
    },
  )
}
