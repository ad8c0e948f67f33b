// GET /v1/sla/status: a month's figures (default: this month, to date) per customer against its
// plan, the customer's DLQ size and its credit once closed; the admin also gets the factory.
import { createRoute, z } from '@hono/zod-openapi'
import { customerScope } from '../../http/auth.ts'
import { createRouter, jsonContent, problems, security } from '../../http/openapi.ts'
import type { SlaContext } from '../context.ts'
import { listCredits } from '../credits.ts'
import { customerIds } from '../customers.ts'
import { computeMonth } from '../figures.ts'
import { getHold } from '../holds.ts'
import { loadLedgers } from '../ledger.ts'
import { monthOf, parseMonth } from '../months.ts'
import { CreditRecord } from '../schemas/credits.ts'
import { CustomerMonth, MonthFigures } from '../schemas/figures.ts'
import { MonthHold } from '../schemas/holds.ts'
import { CustomerParam, MonthParam } from './params.ts'

const SlaStatus = z
  .object({
    month: MonthFigures.shape.month,
    period: MonthFigures.shape.period,
    computedAt: MonthFigures.shape.computedAt,
    /** The month's hold: the close waits for an admin while it is 'held' (null: never held). */
    hold: MonthHold.nullable(),
    /** Admin only: the factory as a whole. */
    overall: MonthFigures.shape.overall.optional(),
    /** Admin only: jobs in the dead-letter queue now, all customers. */
    dlqSize: z.number().int().optional(),
    customers: z.array(
      z
        .object({
          ...CustomerMonth.shape,
          /** The customer's jobs in the dead-letter queue now. */
          dlqSize: z.number().int(),
          /** The closed record of the month, null until the month is closed for the customer. */
          credit: CreditRecord.pick({ id: true, creditPercent: true, creditCents: true })
            .extend({
              closedAt: CreditRecord.shape.createdAt,
              /** creditCents with every correction (void, reissue, goodwill): what is credited. */
              netCreditCents: z.number().int(),
            })
            .nullable(),
        })
        .openapi('CustomerStatus'),
    ),
  })
  .openapi('SlaStatus')

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
      const ids = await customerIds(ctx.tenants, scope)
      const figures = await computeMonth(ctx, month, ids)
      const closed = await listCredits(ctx.pool, month, scope)
      const ledgers = await loadLedgers(
        ctx.pool,
        closed.map((r) => r.id),
      )
      const customers = await Promise.all(
        figures.customers.map(async (m) => {
          const r = closed.find((x) => x.customerId === m.customerId)
          return {
            ...m,
            dlqSize: await dlqSize(m.customerId),
            credit: r
              ? {
                  id: r.id,
                  creditPercent: r.creditPercent,
                  creditCents: r.creditCents,
                  closedAt: r.createdAt,
                  netCreditCents: ledgers.get(r.id)?.netCents ?? r.creditCents,
                }
              : null,
          }
        }),
      )
      const admin = c.var.principal.kind === 'admin'
      return c.json(
        {
          month: figures.month,
          period: figures.period,
          computedAt: figures.computedAt,
          hold: await getHold(ctx.pool, month),
          ...(admin ? { overall: figures.overall, dlqSize: await dlqSize() } : {}),
          customers,
        },
        200,
      )
    },
  )
}
