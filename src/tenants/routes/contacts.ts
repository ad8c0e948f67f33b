// /v1/customers/{id}/contacts: where a customer's notices are e-mailed. The admin replaces the list
// (PUT); the admin and the customer's own token read it (another customer's list is a 404).
import { createRoute, z } from '@hono/zod-openapi'
import type { Pool } from '../../db/postgres.ts'
import { NotFoundError } from '../../errors.ts'
import { canSee, requireAdmin } from '../../http/auth.ts'
import { createRouter, errorResponses, jsonContent, security } from '../../http/openapi.ts'
import { getContacts, putContacts } from '../contacts.ts'
import { CustomerContacts, CustomerContactsUpdate, CustomerId } from '../schemas.ts'

const IdParam = z.object({ id: CustomerId.openapi({ param: { name: 'id', in: 'path' } }) })

export function contactRoutes(pool: Pool) {
  const app = createRouter()

  app.openapi(
    createRoute({
      method: 'get',
      path: '/customers/{id}/contacts',
      tags: ['customers'],
      summary: "A customer's e-mail contacts and the notices each receives (admin, or the customer's token)",
      security,
      request: { params: IdParam },
      responses: { 200: jsonContent(CustomerContacts, 'The contacts'), ...errorResponses },
    }),
    async (c) => {
      const { id } = c.req.valid('param')
      if (!canSee(c.var.principal, id)) throw new NotFoundError(`customer ${id}`)
      return c.json(await getContacts(pool, id), 200)
    },
  )

  app.openapi(
    createRoute({
      method: 'put',
      path: '/customers/{id}/contacts',
      tags: ['customers'],
      summary: "Replace a customer's e-mail contacts (admin); an empty list stops its e-mail",
      security,
      request: {
        params: IdParam,
        body: { content: { 'application/json': { schema: CustomerContactsUpdate } }, required: true },
      },
      responses: { 200: jsonContent(CustomerContacts, 'The contacts as stored'), ...errorResponses },
    }),
    async (c) => {
      requireAdmin(c.var.principal)
      return c.json(await putContacts(pool, c.req.valid('param').id, c.req.valid('json')), 200)
    },
  )

  return app
}
