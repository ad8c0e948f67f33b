// /v1/jobs: retrying one failed or dead-lettered job. Another customer's job is a 404.
import { createRoute } from '@hono/zod-openapi'
import type { Pool } from '../../db/postgres.ts'
import { createRouter, security } from '../../http/openapi.ts'
import { retryJob } from '../control.ts'
import { IdParam, retryResponses, visibleTo } from './shared.ts'

export function jobRoutes(pool: Pool) {
  const app = createRouter()

  app.openapi(
    createRoute({
      method: 'post',
      path: '/jobs/{id}/retry',
      tags: ['runs'],
      summary: 'Retry one failed or dead-lettered job',
      security,
      request: { params: IdParam },
      responses: retryResponses,
    }),
    async (c) => c.json(await retryJob(pool, c.req.valid('param').id, visibleTo(c.var.principal)), 200),
  )

  return app
}
