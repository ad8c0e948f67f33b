// GET /v1/costs?month=YYYY-MM[&format=json|csv|html]: every customer's cost and profitability of a
// month (docs/cost.md), frozen at the SLA close or provisional until then. Admin only: it shows
// every customer's revenue and the operator's own costs.
import { createRoute, z } from '@hono/zod-openapi'
import { requireAdmin } from '../../http/auth.ts'
import { createRouter, problems, security } from '../../http/openapi.ts'
import type { SlaContext } from '../context.ts'
import { renderCostCsv, renderCostHtml } from '../cost-render.ts'
import { buildCostReport } from '../costs.ts'
import { parseMonth } from '../months.ts'
import { CostReport } from '../schemas/costs.ts'
import { MonthParam } from './params.ts'

export function costRoutes(ctx: SlaContext) {
  return createRouter().openapi(
    createRoute({
      method: 'get',
      path: '/costs',
      tags: ['sla'],
      summary:
        "Every customer's cost and profitability in a month (admin): frozen at the close, provisional before",
      security,
      request: {
        query: z.object({ month: MonthParam, format: z.enum(['json', 'csv', 'html']).default('json') }),
      },
      responses: {
        200: {
          description: 'The report',
          content: {
            'application/json': { schema: CostReport },
            'text/csv': { schema: z.string() },
            'text/html': { schema: z.string() },
          },
        },
        ...problems('invalid', 'unauthorized', 'forbidden'),
      },
    }),
    async (c) => {
      requireAdmin(c.var.principal)
      const q = c.req.valid('query')
      const report = await buildCostReport(ctx, parseMonth(q.month))
      if (q.format === 'csv') {
        return c.body(renderCostCsv(report), 200, {
          'Content-Type': 'text/csv; charset=utf-8',
          'Content-Disposition': `attachment; filename="costs-${q.month}.csv"`,
        })
      }
      if (q.format === 'html') return c.html(renderCostHtml(report), 200)
      return c.json(report, 200)
    },
  )
}
