// POST /v1/sla/months/{month}/release: an admin releases a held month with a reason (audited);
// the close then runs at once through the same path as every close.
import { createRoute, z } from '@hono/zod-openapi'
import { type Principal, requireAdmin } from '../../http/auth.ts'
import { createRouter, jsonContent, problems, security } from '../../http/openapi.ts'
import { closeMonth } from '../close.ts'
import type { SlaContext } from '../context.ts'
import { releaseHold } from '../holds.ts'
import { parseMonth } from '../months.ts'
import { CloseResult } from '../schemas/credits.ts'
import { Decision, MonthHold } from '../schemas/holds.ts'
import { MonthParam } from './params.ts'

/** Who decided: the token kind, and the name the operator gave. */
export const actorOf = (p: Principal, named?: string) =>
  `${p.kind === 'admin' ? 'admin' : `customer:${p.customerId}`}${named ? ` (${named})` : ''}`

const Released = z.object({ hold: MonthHold, close: CloseResult }).openapi('MonthRelease')

export function monthRoutes(ctx: SlaContext) {
  return createRouter().openapi(
    createRoute({
      method: 'post',
      path: '/sla/months/{month}/release',
      tags: ['sla'],
      summary: 'Release a held month (admin, with a reason): it is closed at once',
      security,
      request: {
        params: z.object({ month: MonthParam.openapi({ param: { name: 'month', in: 'path' } }) }),
        body: { content: { 'application/json': { schema: Decision } }, required: true },
      },
      responses: {
        200: jsonContent(Released, 'Released, and what the close did'),
        ...problems('invalid', 'unauthorized', 'forbidden', 'not_found', 'conflict'),
      },
    }),
    async (c) => {
      requireAdmin(c.var.principal)
      const month = parseMonth(c.req.valid('param').month)
      const body = c.req.valid('json')
      const hold = await releaseHold(ctx, month, actorOf(c.var.principal, body.actor), body.reason)
      ctx.log?.info('sla month released', { month: month.key, by: hold.releasedBy })
      return c.json({ hold, close: await closeMonth(ctx, month) }, 200)
    },
  )
}
