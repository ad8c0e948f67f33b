// GET /v1/sla/status: a month's figures (default: this month, to date) per customer against its
// plan, the customer's DLQ size and its credit once closed; the admin also gets the factory.
import { createRoute, z } from '@hono/zod-openapi'
import { customerScope } from '../../http/auth.ts'
import { createRouter, jsonContent, problems, security } from '../../http/openapi.ts'
import type { SlaContext } from '../context.ts'
import { monthOf, parseMonth } from '../months.ts'
import { SlaStatus, slaStatus } from '../status.ts'
import { CustomerParam, MonthParam } from './params.ts'

/** `dlqSize` is the orchestrator's: jobs in its dead-letter queue now. */
export function statusRoutes(ctx: SlaContext, dlqSize: (customerId?: string) => Promise<number>) {
  return createRouter().openapi(
    createRoute({
      method: 'get',
      path: '/sla/status',
      tags: ['sla'],
      summary: 'Figures of a month (default: this month, to date) per customer, against the plan',
      security,
      request: { query: z.object({ customerId: CustomerParam.optional(), month: MonthParam.optional() }) },
      responses: {
        200: jsonContent(SlaStatus, 'Month figures'),
        ...problems('invalid', 'unauthorized', 'forbidden', 'not_found'),
      },
    }),
    async (c) => {
      const q = c.req.valid('query')
      const scope = customerScope(c.var.principal, q.customerId)
      const month = q.month ? parseMonth(q.month) : monthOf(new Date())
      const admin = c.var.principal.kind === 'admin'
      return c.json(await slaStatus(ctx, dlqSize, month, scope, admin), 200)
    },
  )
}
