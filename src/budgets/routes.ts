// /v1/customers/{id}/budget: a customer's budget this month (admin, or the customer's own token;
// another customer's is a 404), and an admin's release or re-enforcement of the policy's action.
import { createRoute, z } from '@hono/zod-openapi'
import { NotFoundError } from '../errors.ts'
import { canSee, requireAdmin } from '../http/auth.ts'
import { createRouter, errorResponses, jsonContent, security } from '../http/openapi.ts'
import { CustomerId } from '../tenants/index.ts'
import { adminAction, type BudgetContext } from './enforce.ts'
import { BudgetActionRequest, BudgetStatus } from './schemas.ts'
import { budgetStatus } from './status.ts'

const IdParam = z.object({ id: CustomerId.openapi({ param: { name: 'id', in: 'path' } }) })

/** A registered customer (NotFoundError otherwise). */
export async function customerOf(ctx: BudgetContext, id: string) {
  const [c] = await ctx.tenants.customers(id)
  if (!c) throw new NotFoundError(`customer ${id}`)
  return c
}

export function budgetRoutes(ctx: BudgetContext) {
  const app = createRouter()
  const customer = (id: string) => customerOf(ctx, id)

  app.openapi(
    createRoute({
      method: 'get',
      path: '/customers/{id}/budget',
      tags: ['customers'],
      summary:
        "A customer's budget this month: spend, thresholds, forecast, the policy's state and actions (admin, or the customer's token)",
      security,
      request: { params: IdParam },
      responses: { 200: jsonContent(BudgetStatus, 'The budget this month'), ...errorResponses },
    }),
    async (c) => {
      const { id } = c.req.valid('param')
      if (!canSee(c.var.principal, id)) throw new NotFoundError(`customer ${id}`)
      return c.json(await budgetStatus(ctx, await customer(id), new Date()), 200)
    },
  )

  app.openapi(
    createRoute({
      method: 'post',
      path: '/customers/{id}/budget/actions',
      tags: ['customers'],
      summary:
        "Release the budget policy's action for the rest of the month, or enforce it again (admin; recorded with the reason)",
      security,
      request: {
        params: IdParam,
        body: { content: { 'application/json': { schema: BudgetActionRequest } }, required: true },
      },
      responses: { 200: jsonContent(BudgetStatus, 'The budget after the action'), ...errorResponses },
    }),
    async (c) => {
      requireAdmin(c.var.principal)
      const { id } = c.req.valid('param')
      const { action, reason } = c.req.valid('json')
      const found = await customer(id)
      await adminAction(ctx, id, action, reason, new Date())
      return c.json(await budgetStatus(ctx, found, new Date()), 200)
    },
  )

  return app
}
