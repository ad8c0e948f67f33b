// POST /v1/sla/recompute (the dry run of the monthly close: the figures now, next to what was
// issued) and POST /v1/sla/close (close a past month now). Admin only.
import { createRoute, z } from '@hono/zod-openapi'
import { requireAdmin } from '../../http/auth.ts'
import { createRouter, jsonContent, problems, security } from '../../http/openapi.ts'
import { closeMonth } from '../close.ts'
import type { SlaContext } from '../context.ts'
import { listCredits } from '../credits.ts'
import { customerIds } from '../customers.ts'
import { computeMonth } from '../figures.ts'
import { parseMonth } from '../months.ts'
import { CloseResult, CreditRecord } from '../schemas/credits.ts'
import { CustomerMonth, MonthFigures } from '../schemas/figures.ts'
import { CustomerParam, MonthParam } from './params.ts'

const DryRun = z
  .object({
    dryRun: z.literal(true),
    ...MonthFigures.shape,
    customers: z.array(
      z
        .object({
          ...CustomerMonth.shape,
          /** The record the close issued for the month, null when it has not. */
          issued: CreditRecord.pick({
            id: true,
            creditPercent: true,
            creditCents: true,
            inputsSha256: true,
          }).nullable(),
        })
        .openapi('CustomerDryRun'),
    ),
  })
  .openapi('SlaDryRun')

export function closeRoutes(ctx: SlaContext) {
  const app = createRouter()

  app.openapi(
    createRoute({
      method: 'post',
      path: '/sla/recompute',
      tags: ['sla'],
      summary: 'Dry run of the monthly close (admin): the figures and credits, nothing written',
      security,
      request: { query: z.object({ month: MonthParam, customerId: CustomerParam.optional() }) },
      responses: {
        200: jsonContent(DryRun, 'What the close would issue'),
        ...problems('invalid', 'unauthorized', 'forbidden', 'not_found'),
      },
    }),
    async (c) => {
      requireAdmin(c.var.principal)
      const q = c.req.valid('query')
      const month = parseMonth(q.month)
      const ids = await customerIds(ctx.tenants, q.customerId)
      const [figures, records] = await Promise.all([
        computeMonth(ctx, month, ids),
        listCredits(ctx.pool, month, q.customerId),
      ])
      return c.json(
        {
          dryRun: true as const,
          ...figures,
          customers: figures.customers.map((m) => {
            const r = records.find((x) => x.customerId === m.customerId)
            return {
              ...m,
              issued: r
                ? {
                    id: r.id,
                    creditPercent: r.creditPercent,
                    creditCents: r.creditCents,
                    inputsSha256: r.inputsSha256,
                  }
                : null,
            }
          }),
        },
        200,
      )
    },
  )

  app.openapi(
    createRoute({
      method: 'post',
      path: '/sla/close',
      tags: ['sla'],
      summary: "Close a past month now (admin), through the scheduled close's path: closed, deferred or held",
      security,
      request: { query: z.object({ month: MonthParam }) },
      responses: {
        200: jsonContent(CloseResult, 'Closed'),
        ...problems('invalid', 'unauthorized', 'forbidden', 'conflict'),
      },
    }),
    async (c) => {
      requireAdmin(c.var.principal)
      return c.json(await closeMonth(ctx, parseMonth(c.req.valid('query').month)), 200)
    },
  )

  return app
}
