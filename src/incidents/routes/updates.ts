// POST /v1/incidents/{id}/updates: an operator's status update for the timeline and every affected
// customer, optionally with a new recovery estimate (admin).
import { createRoute } from '@hono/zod-openapi'
import { requireAdmin } from '../../http/auth.ts'
import { createRouter, jsonContent, problems, security } from '../../http/openapi.ts'
import { update } from '../actions.ts'
import { IncidentUpdate, UpdateQueued } from '../schemas.ts'
import { IdParam } from './params.ts'
import type { RouteDeps } from './views.ts'

export function updateRoutes(d: RouteDeps) {
  const app = createRouter()

  app.openapi(
    createRoute({
      method: 'post',
      path: '/incidents/{id}/updates',
      tags: ['incidents'],
      summary:
        'Post a status update (optionally with a new recovery estimate) to the timeline and every affected customer (admin)',
      security,
      request: {
        params: IdParam,
        body: { content: { 'application/json': { schema: IncidentUpdate } }, required: true },
      },
      responses: {
        201: jsonContent(UpdateQueued, 'Queued for each affected customer'),
        // 409: an estimate for a resolved incident.
        ...problems('invalid', 'unauthorized', 'forbidden', 'not_found', 'conflict'),
      },
    }),
    async (c) => {
      requireAdmin(c.var.principal)
      const { id } = c.req.valid('param')
      const { message, estimatedRecoveryAt } = c.req.valid('json')
      const estimate = estimatedRecoveryAt ? new Date(estimatedRecoveryAt) : undefined
      const queued = await update(d.pool, id, message, estimate, d.ctx)
      d.kick()
      return c.json({ queued }, 201)
    },
  )

  return app
}
