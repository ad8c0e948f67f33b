// GET and POST /v1/sla/plans/{customerId}: a customer's plan versions (the admin and the customer
// itself read them; only the admin adds one, effective from a month).
import { createRoute, z } from '@hono/zod-openapi'
import { customerScope, requireAdmin } from '../../http/auth.ts'
import { createRouter, jsonContent, problems, security } from '../../http/openapi.ts'
import type { SlaContext } from '../context.ts'
import { monthOf, parseMonth } from '../months.ts'
import { addPlanVersion, listPlanVersions } from '../plans.ts'
import { PlanVersion, planSchema } from '../schemas/plan.ts'
import { CustomerParam, items, MonthParam } from './params.ts'

const PlanParams = z.object({
  customerId: CustomerParam.openapi({ param: { name: 'customerId', in: 'path' } }),
})

export function planRoutes(ctx: SlaContext) {
  const app = createRouter()

  app.openapi(
    createRoute({
      method: 'get',
      path: '/sla/plans/{customerId}',
      tags: ['sla'],
      summary: "A customer's plan versions, newest first",
      security,
      request: { params: PlanParams },
      responses: {
        200: jsonContent(items(PlanVersion), 'Plan versions'),
        ...problems('invalid', 'unauthorized', 'forbidden', 'not_found'),
      },
    }),
    async (c) => {
      const { customerId } = c.req.valid('param')
      customerScope(c.var.principal, customerId)
      return c.json({ items: await listPlanVersions(ctx, customerId) }, 200)
    },
  )

  app.openapi(
    createRoute({
      method: 'post',
      path: '/sla/plans/{customerId}',
      tags: ['sla'],
      summary: 'Add a plan version for a customer (admin), effective from a month (default: this month)',
      security,
      request: {
        params: PlanParams,
        body: {
          content: {
            'application/json': {
              schema: z.object({ plan: planSchema, effectiveFrom: MonthParam.optional() }).strict(),
            },
          },
          required: true,
        },
      },
      responses: {
        201: jsonContent(PlanVersion, 'The new version'),
        ...problems('invalid', 'unauthorized', 'forbidden', 'not_found'),
      },
    }),
    async (c) => {
      requireAdmin(c.var.principal)
      const { customerId } = c.req.valid('param')
      const body = c.req.valid('json')
      const from = body.effectiveFrom ? parseMonth(body.effectiveFrom) : monthOf(new Date())
      return c.json(await addPlanVersion(ctx, customerId, body.plan, from), 201)
    },
  )

  return app
}
