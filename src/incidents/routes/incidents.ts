// /v1/incidents and /v1/incidents/{id}: list, read (with the timeline), acknowledge, resolve, and
// the post-incident fields. Reads: the admin, and a customer for the incidents affecting it; changes:
// the admin only.
import { createRoute, z } from '@hono/zod-openapi'
import { customerScope, requireAdmin } from '../../http/auth.ts'
import { createRouter, jsonContent, problems, security } from '../../http/openapi.ts'
import { acknowledge, annotate, resolve } from '../actions.ts'
import {
  CustomerIncident,
  CustomerIncidentWithTimeline,
  Incident,
  IncidentStatus,
  IncidentWithTimeline,
  PostIncidentFields,
} from '../schemas.ts'
import { listIncidents } from '../store.ts'
import { getTimeline } from '../timeline.ts'
import { IdParam } from './params.ts'
import { incidentFor, type RouteDeps, visibleIncident, withTimelineFor } from './views.ts'

export function incidentRoutes(d: RouteDeps) {
  const app = createRouter()

  app.openapi(
    createRoute({
      method: 'get',
      path: '/incidents',
      tags: ['incidents'],
      summary: 'List incidents (a customer token lists those affecting it)',
      security,
      request: {
        query: z.object({
          customerId: z.string().min(1).max(64).optional(),
          status: IncidentStatus.optional(),
          limit: z.coerce.number().int().min(1).max(500).default(100),
        }),
      },
      responses: {
        200: jsonContent(
          z.object({ items: z.array(z.union([Incident, CustomerIncident])) }),
          'Incidents, newest first (a customer token: its view of each)',
        ),
        ...problems('invalid', 'unauthorized', 'forbidden'),
      },
    }),
    async (c) => {
      const q = c.req.valid('query')
      const p = c.var.principal
      const items = await listIncidents(d.pool, {
        customerId: customerScope(p, q.customerId),
        status: q.status,
        limit: q.limit,
      })
      return c.json({ items: items.map((i) => incidentFor(p, i)) }, 200)
    },
  )

  app.openapi(
    createRoute({
      method: 'get',
      path: '/incidents/{id}',
      tags: ['incidents'],
      summary: 'An incident with its timeline',
      security,
      request: { params: IdParam },
      responses: {
        200: jsonContent(
          z.union([IncidentWithTimeline, CustomerIncidentWithTimeline]),
          'The incident (a customer token: its view, with transitions, updates and estimates only)',
        ),
        ...problems('invalid', 'unauthorized', 'not_found'),
      },
    }),
    async (c) => {
      const { id } = c.req.valid('param')
      const i = await visibleIncident(d.pool, c.var.principal, id)
      return c.json(withTimelineFor(c.var.principal, i, await getTimeline(d.pool, id)), 200)
    },
  )

  for (const action of ['acknowledge', 'resolve'] as const) {
    app.openapi(
      createRoute({
        method: 'post',
        path: `/incidents/{id}/${action}`,
        tags: ['incidents'],
        summary:
          action === 'acknowledge'
            ? 'Acknowledge (admin; mirrored to PagerDuty)'
            : 'Resolve (admin; mirrored to PagerDuty, customers notified)',
        security,
        request: { params: IdParam },
        responses: {
          200: jsonContent(Incident, 'The incident after the change'),
          ...problems('invalid', 'unauthorized', 'forbidden', 'not_found', 'conflict'),
        },
      }),
      async (c) => {
        requireAdmin(c.var.principal)
        const { id } = c.req.valid('param')
        const i = action === 'acknowledge' ? await acknowledge(d.pool, id) : await resolve(d.pool, id, d.ctx)
        d.kick()
        return c.json(i, 200)
      },
    )
  }

  app.openapi(
    createRoute({
      method: 'patch',
      path: '/incidents/{id}',
      tags: ['incidents'],
      summary: 'Fill in root cause and prevention (admin)',
      security,
      request: {
        params: IdParam,
        body: { content: { 'application/json': { schema: PostIncidentFields } }, required: true },
      },
      responses: {
        200: jsonContent(Incident, 'The incident'),
        ...problems('invalid', 'unauthorized', 'forbidden', 'not_found'),
      },
    }),
    async (c) => {
      requireAdmin(c.var.principal)
      const { id } = c.req.valid('param')
      const i = await annotate(d.pool, id, c.req.valid('json'))
      d.kick()
      return c.json(i, 200)
    },
  )

  return app
}
