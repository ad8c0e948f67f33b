// /v1/customers: the admin registers customers and issues their API tokens; a customer sees itself.
import { createRoute, z } from '@hono/zod-openapi'
import type { Pool } from '../db/postgres.ts'
import { customerScope, requireAdmin } from '../http/auth.ts'
import { createRouter, errorResponses, jsonContent, problems, security } from '../http/openapi.ts'
import { Customer, CustomerId, CustomerPatch, IssuedToken, NewCustomer, TokenRequest } from './schemas.ts'
import type { CustomerSettings } from './settings.ts'
import {
  createCustomer,
  getCustomer,
  issueToken,
  listCustomers,
  revokeToken,
  updateCustomer,
} from './store.ts'

const IdParam = z.object({ id: CustomerId.openapi({ param: { name: 'id', in: 'path' } }) })

export function tenantRoutes(pool: Pool, defaults: CustomerSettings) {
  const app = createRouter()

  app.openapi(
    createRoute({
      method: 'post',
      path: '/customers',
      tags: ['customers'],
      summary: 'Register a customer (admin)',
      security,
      request: { body: { content: { 'application/json': { schema: NewCustomer } }, required: true } },
      responses: { 201: jsonContent(Customer, 'Created'), ...errorResponses, ...problems('conflict') },
    }),
    async (c) => {
      requireAdmin(c.var.principal)
      return c.json(await createCustomer(pool, defaults, c.req.valid('json')), 201)
    },
  )

  app.openapi(
    createRoute({
      method: 'get',
      path: '/customers',
      tags: ['customers'],
      summary: 'List customers (a customer token lists itself)',
      security,
      responses: { 200: jsonContent(z.object({ items: z.array(Customer) }), 'Customers'), ...errorResponses },
    }),
    async (c) => c.json({ items: await listCustomers(pool, defaults, customerScope(c.var.principal)) }, 200),
  )

  app.openapi(
    createRoute({
      method: 'get',
      path: '/customers/{id}',
      tags: ['customers'],
      summary: 'Get a customer',
      security,
      request: { params: IdParam },
      responses: { 200: jsonContent(Customer, 'The customer'), ...errorResponses },
    }),
    async (c) => {
      const { id } = c.req.valid('param')
      customerScope(c.var.principal, id)
      return c.json(await getCustomer(pool, defaults, id), 200)
    },
  )

  app.openapi(
    createRoute({
      method: 'patch',
      path: '/customers/{id}',
      tags: ['customers'],
      summary: 'Change a customer: name, webhook, settings (admin; settings as a JSON merge patch)',
      security,
      request: {
        params: IdParam,
        body: { content: { 'application/json': { schema: CustomerPatch } }, required: true },
      },
      responses: {
        200: jsonContent(Customer, 'The customer as changed'),
        ...errorResponses,
        ...problems('unprocessable'),
      },
    }),
    async (c) => {
      requireAdmin(c.var.principal)
      return c.json(await updateCustomer(pool, defaults, c.req.valid('param').id, c.req.valid('json')), 200)
    },
  )

  app.openapi(
    createRoute({
      method: 'post',
      path: '/customers/{id}/tokens',
      tags: ['customers'],
      summary: 'Issue an API token for a customer (admin); the token is shown once',
      security,
      request: {
        params: IdParam,
        body: {
          content: { 'application/json': { schema: TokenRequest } },
        },
      },
      responses: {
        201: jsonContent(IssuedToken, 'The new token'),
        ...errorResponses,
      },
    }),
    async (c) => {
      requireAdmin(c.var.principal)
      const body = c.req.valid('json')
      return c.json(await issueToken(pool, c.req.valid('param').id, body?.name), 201)
    },
  )

  app.openapi(
    createRoute({
      method: 'delete',
      path: '/customers/{id}/tokens/{tokenId}',
      tags: ['customers'],
      summary: 'Revoke a token (admin)',
      security,
      request: { params: IdParam.extend({ tokenId: z.coerce.number().int().positive() }) },
      responses: { 204: { description: 'Revoked' }, ...errorResponses },
    }),
    async (c) => {
      requireAdmin(c.var.principal)
      const { id, tokenId } = c.req.valid('param')
      await revokeToken(pool, id, tokenId)
      return c.body(null, 204)
    },
  )

  return app
}
