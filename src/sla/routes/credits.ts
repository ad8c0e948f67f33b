// GET /v1/sla/credits (the credit report of a month as JSON, CSV or printable HTML) and
// GET /v1/sla/billing-adjustments (credits as adjustments of a billing cycle). A customer token
// sees its own customer only.
import { createRoute, z } from '@hono/zod-openapi'
import { customerScope } from '../../http/auth.ts'
import { createRouter, jsonContent, problems, security } from '../../http/openapi.ts'
import type { SlaContext } from '../context.ts'
import { listBillingAdjustments } from '../credits.ts'
import { requireCustomer } from '../customers.ts'
import { parseMonth } from '../months.ts'
import { buildCreditReport, renderCsv, renderHtml } from '../report.ts'
import { BillingAdjustment, CreditReport } from '../schemas/credits.ts'
import { CustomerParam, items, MonthParam } from './params.ts'

export function creditRoutes(ctx: SlaContext) {
  const app = createRouter()

  app.openapi(
    createRoute({
      method: 'get',
      path: '/sla/credits',
      tags: ['sla'],
      summary: 'Credit report of a month as JSON, CSV or printable HTML',
      security,
      request: {
        query: z.object({
          month: MonthParam,
          customerId: CustomerParam.optional(),
          format: z.enum(['json', 'csv', 'html']).default('json'),
        }),
      },
      responses: {
        200: {
          description: 'The report',
          content: {
            'application/json': { schema: CreditReport },
            'text/csv': { schema: z.string() },
            'text/html': { schema: z.string() },
          },
        },
        ...problems('invalid', 'unauthorized', 'forbidden', 'not_found'),
      },
    }),
    async (c) => {
      const q = c.req.valid('query')
      const scope = customerScope(c.var.principal, q.customerId)
      if (scope) await requireCustomer(ctx.tenants, scope)
      const report = await buildCreditReport(ctx, parseMonth(q.month), scope)
      if (q.format === 'csv') {
        return c.body(renderCsv(report), 200, {
          'Content-Type': 'text/csv; charset=utf-8',
          'Content-Disposition': `attachment; filename="sla-credits-${q.month}.csv"`,
        })
      }
      if (q.format === 'html') return c.html(renderHtml(report), 200)
      return c.json(report, 200)
    },
  )

  app.openapi(
    createRoute({
      method: 'get',
      path: '/sla/billing-adjustments',
      tags: ['sla'],
      summary: 'Credits as billing adjustments for a billing cycle (the month after the credited one)',
      security,
      request: { query: z.object({ cycle: MonthParam, customerId: CustomerParam.optional() }) },
      responses: {
        200: jsonContent(items(BillingAdjustment), 'Adjustments'),
        ...problems('invalid', 'unauthorized', 'forbidden'),
      },
    }),
    async (c) => {
      const q = c.req.valid('query')
      const scope = customerScope(c.var.principal, q.customerId)
      return c.json({ items: await listBillingAdjustments(ctx.pool, parseMonth(q.cycle), scope) }, 200)
    },
  )

  return app
}
