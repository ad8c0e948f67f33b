// /v1/jobs: retrying one failed or dead-lettered job. Another customer's job is a 404.
import { createRoute } from '@hono/zod-openapi'
import type { Pool } from '../../db/postgres.ts'
import { createRouter, jsonContent, problems, security } from '../../http/openapi.ts'
import { retryJob } from '../control.ts'
import { Job } from '../schemas.ts'
import { IdParam, visibleTo } from './shared.ts'

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
      responses: {
        200: jsonContent(Job, 'The job, queued again'),
        ...problems('invalid', 'unauthorized', 'not_found', 'conflict'),
      },
    }),
    async (c) => c.json(await retryJob(pool, c.req.valid('param').id, visibleTo(c.var.principal)), 200),
  )

  return app
}
