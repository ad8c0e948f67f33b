// GET and POST /v1/sla/maintenance: planned maintenance windows overlapping a month (a customer
// token sees the factory-wide ones and its own); only the admin declares one.
import { createRoute, z } from '@hono/zod-openapi'
import { customerScope, requireAdmin } from '../../http/auth.ts'
import { createRouter, jsonContent, problems, security } from '../../http/openapi.ts'
import type { SlaContext } from '../context.ts'
import { addMaintenanceWindow, maintenanceWindows } from '../maintenance.ts'
import { monthOf, parseMonth } from '../months.ts'
import { MaintenanceWindow, maintenanceWindowSchema } from '../schemas/plan.ts'
import { items, MonthParam } from './params.ts'

export function maintenanceRoutes(ctx: SlaContext) {
  const app = createRouter()

  app.openapi(
    createRoute({
      method: 'get',
      path: '/sla/maintenance',
      tags: ['sla'],
      summary: 'Maintenance windows overlapping a month (default: this month)',
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
      const all = await maintenanceWindows(
        ctx.pool,
        ctx.config,
        q.month ? parseMonth(q.month) : monthOf(new Date()),
      )
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
      summary: 'Declare a planned maintenance window (admin); its minutes are excluded from uptime',
      security,
      request: {
        body: { content: { 'application/json': { schema: maintenanceWindowSchema } }, required: true },
      },
      responses: {
        201: jsonContent(MaintenanceWindow, 'The window'),
        ...problems('invalid', 'unauthorized', 'forbidden', 'not_found'),
      },
    }),
    async (c) => {
      requireAdmin(c.var.principal)
      return c.json(await addMaintenanceWindow(ctx, c.req.valid('json')), 201)
    },
  )

  return app
}
