// GET, POST and DELETE /v1/sla/maintenance: planned maintenance windows overlapping a month (a
// customer token sees the factory-wide ones and its own, cancelled ones included); only the admin
// declares one (late or over-cap ones as an adjustment with a reason) or cancels one (audited).
import { createRoute, z } from '@hono/zod-openapi'
import { customerScope, requireAdmin } from '../../http/auth.ts'
import { createRouter, jsonContent, problems, SerialIdParams, security } from '../../http/openapi.ts'
import type { SlaContext } from '../context.ts'
import { addMaintenanceWindow, cancelMaintenanceWindow, maintenanceWindows } from '../maintenance.ts'
import { monthOf, parseMonth } from '../months.ts'
import { Decision } from '../schemas/holds.ts'
import { MaintenanceWindow, maintenanceWindowSchema } from '../schemas/plan.ts'
import { actorOf } from './months.ts'
import { items, MonthParam } from './params.ts'

export function maintenanceRoutes(ctx: SlaContext) {
  const app = createRouter()

  app.openapi(
    createRoute({
      method: 'get',
      path: '/sla/maintenance',
      tags: ['sla'],
      summary: 'Maintenance windows overlapping a month (default: this month), cancelled ones included',
      security,
      request: { query: z.object({ month: MonthParam.optional() }) },
      responses: {
        200: jsonContent(items(MaintenanceWindow), 'Windows'),
        ...problems('invalid', 'unauthorized'),
      },
    }),
    async (c) => {
      const q = c.req.valid('query')
      const scope = customerScope(c.var.principal)
      const all = await maintenanceWindows(ctx.pool, q.month ? parseMonth(q.month) : monthOf(new Date()))
      return c.json(
        { items: all.filter((w) => !scope || w.customerId === null || w.customerId === scope) },
        200,
      )
    },
  )

  app.openapi(
    createRoute({
      method: 'post',
      path: '/sla/maintenance',
      tags: ['sla'],
      summary:
        'Declare a maintenance window (admin); a late or over-cap one only as an adjustment with a reason',
      security,
      request: {
        body: { content: { 'application/json': { schema: maintenanceWindowSchema } }, required: true },
      },
      responses: {
        201: jsonContent(MaintenanceWindow, 'The window'),
        ...problems('invalid', 'unprocessable', 'unauthorized', 'forbidden', 'not_found'),
      },
    }),
    async (c) => {
      requireAdmin(c.var.principal)
      const body = c.req.valid('json')
      const w = await addMaintenanceWindow(ctx, body, { actor: actorOf(c.var.principal, body.actor) })
      return c.json(w, 201)
    },
  )

  app.openapi(
    createRoute({
      method: 'delete',
      path: '/sla/maintenance/{id}',
      tags: ['sla'],
      summary: 'Cancel a maintenance window (admin, with a reason): kept, marked cancelled, audited',
      security,
      request: {
        params: SerialIdParams,
        body: { content: { 'application/json': { schema: Decision } }, required: true },
      },
      responses: {
        200: jsonContent(MaintenanceWindow, 'The cancelled window'),
        ...problems('invalid', 'unauthorized', 'forbidden', 'not_found', 'conflict'),
      },
    }),
    async (c) => {
      requireAdmin(c.var.principal)
      const body = c.req.valid('json')
      const w = await cancelMaintenanceWindow(ctx, c.req.valid('param').id, {
        actor: actorOf(c.var.principal, body.actor),
        reason: body.reason,
      })
      return c.json(w, 200)
    },
  )

  return app
}
