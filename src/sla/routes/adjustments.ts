// POST /v1/sla/credits/{id}/adjustments: a correction of a closed credit (void, reissue, goodwill)
// as a new immutable ledger row with its reason and actor (ledger.ts). Admin only.
import { createRoute, z } from '@hono/zod-openapi'
import { requireAdmin } from '../../http/auth.ts'
import { createRouter, jsonContent, problems, security } from '../../http/openapi.ts'
import { exportToClickHouse } from '../close.ts'
import type { SlaContext } from '../context.ts'
import { copyFrozenMonth } from '../cost-copy.ts'
import { adjustCredit } from '../ledger.ts'
import { parseMonth } from '../months.ts'
import { CreditLedger, NewCreditAdjustment } from '../schemas/ledger.ts'

const CreditIdParams = z.object({
  id: z
    .string()
    .regex(/^[1-9][0-9]{0,14}$/, 'not a credit id')
    .openapi({ param: { name: 'id', in: 'path' }, example: '42' }),
})

export function adjustmentRoutes(ctx: SlaContext) {
  return createRouter().openapi(
    createRoute({
      method: 'post',
      path: '/sla/credits/{id}/adjustments',
      tags: ['sla'],
      summary:
        'Correct a closed credit (admin): void it, reissue a void one, or add goodwill; a new immutable ledger row with its reason',
      security,
      request: {
        params: CreditIdParams,
        body: { content: { 'application/json': { schema: NewCreditAdjustment } }, required: true },
      },
      responses: {
        201: jsonContent(CreditLedger, "The credit's ledger after the correction"),
        ...problems('invalid', 'unauthorized', 'forbidden', 'not_found', 'unprocessable'),
      },
    }),
    async (c) => {
      requireAdmin(c.var.principal)
      const ledger = await adjustCredit(
        ctx.pool,
        Number(c.req.valid('param').id),
        c.req.valid('json'),
        'admin',
      )
      // Grafana's copies follow: the SLA figures and the month's profitability, whose revenue the
      // correction moves (a failure is logged; the next close run, or sla.refresh, rewrites them).
      await exportToClickHouse(ctx, parseMonth(ledger.month))
      await copyFrozenMonth(ctx, parseMonth(ledger.month))
      return c.json(ledger, 201)
    },
  )
}
