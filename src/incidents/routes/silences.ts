// /v1/incident-silences: silences and maintenance windows (admin). An incident matching an active
// silence is recorded and shown but not paged.
import { createRoute } from '@hono/zod-openapi'
import { requireAdmin } from '../../http/auth.ts'
import { createRouter, jsonContent, problems, SerialIdParams, security } from '../../http/openapi.ts'
import { NewSilence, Silence } from '../schemas.ts'
import { createSilence, endSilence } from '../silences.ts'
import type { RouteDeps } from './views.ts'

export function silenceRoutes(d: Pick<RouteDeps, 'pool'>) {
  const app = createRouter()

  app.openapi(
    createRoute({
      method: 'post',
      path: '/incident-silences',
      tags: ['incidents'],
      summary: 'Create a silence / maintenance window: matching incidents are recorded, not paged (admin)',
      security,
      request: { body: { content: { 'application/json': { schema: NewSilence } }, required: true } },
      responses: {
        201: jsonContent(Silence, 'Created'),
        ...problems('invalid', 'unauthorized', 'forbidden'),
      },
    }),
    async (c) => {
      requireAdmin(c.var.principal)
      return c.json(await createSilence(d.pool, c.req.valid('json')), 201)
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
        params: SerialIdParams,
      },
      responses: {
        204: { description: 'Ended' },
        ...problems('invalid', 'unauthorized', 'forbidden', 'not_found'),
      },
    }),
    async (c) => {
      requireAdmin(c.var.principal)
      await endSilence(d.pool, c.req.valid('param').id)
      return c.body(null, 204)
    },
  )

  return app
}
