// GET /v1/sla/audit: every decision a person made about SLA figures (released months; late,
// over-cap and cancelled maintenance), oldest first. Admin only.
import { createRoute, z } from '@hono/zod-openapi'
import { requireAdmin } from '../../http/auth.ts'
import { createRouter, jsonContent, problems, security } from '../../http/openapi.ts'
import type { SlaContext } from '../context.ts'
import { auditLog } from '../holds.ts'
import { AuditEntry } from '../schemas/holds.ts'
import { items } from './params.ts'

export function auditRoutes(ctx: SlaContext) {
  return createRouter().openapi(
    createRoute({
      method: 'get',
      path: '/sla/audit',
      tags: ['sla'],
      summary: 'The audit log of SLA decisions (admin), oldest first',
      security,
      request: {
        query: z.object({
          /** Only entries about this subject, e.g. `month:2026-10` or `maintenance:` (a prefix). */
          subject: z.string().min(1).max(200).optional(),
        }),
      },
      responses: {
        200: jsonContent(items(AuditEntry), 'Audit entries'),
        ...problems('invalid', 'unauthorized', 'forbidden'),
      },
    }),
    async (c) => {
      requireAdmin(c.var.principal)
      return c.json({ items: await auditLog(ctx.pool, c.req.valid('query').subject) }, 200)
    },
  )
}
