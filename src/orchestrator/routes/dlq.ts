// /v1/dlq: the dead-letter queue, and taking a job out of it. A customer token lists and retries
// its own dead jobs only.
import { createRoute, z } from '@hono/zod-openapi'
import type { Pool } from '../../db/postgres.ts'
import { customerScope } from '../../http/auth.ts'
import { createRouter, jsonContent, problems, security } from '../../http/openapi.ts'
import type { OrchestratorConfig } from '../config.ts'
import { listDlq, retryJob } from '../control.ts'
import { withWaiting } from '../jobs.ts'
import { DlqEntry } from '../schemas.ts'
import { JobIdParam, retryResponses, visibleTo } from './shared.ts'

export function dlqRoutes(pool: Pool, cfg: Pick<OrchestratorConfig, 'workerLostAfterMs'>) {
  const app = createRouter()

  app.openapi(
    createRoute({
      method: 'get',
      path: '/dlq',
      tags: ['dlq'],
      summary: 'Dead-lettered jobs with their error history (a customer token lists its own)',
      security,
      request: {
        query: z.object({
          customerId: z.string().max(64).optional(),
          limit: z.coerce.number().int().min(1).max(500).default(100),
        }),
      },
      responses: {
        200: jsonContent(z.object({ items: z.array(DlqEntry) }), 'Dead-lettered jobs'),
        ...problems('invalid', 'unauthorized', 'forbidden'),
      },
    }),
    async (c) => {
      const q = c.req.valid('query')
      return c.json(
        { items: await listDlq(pool, customerScope(c.var.principal, q.customerId), q.limit) },
        200,
      )
    },
  )

  app.openapi(
    createRoute({
      method: 'post',
      path: '/dlq/{jobId}/retry',
      tags: ['dlq'],
      summary: 'Take a job out of the dead-letter queue and run it again',
      security,
      request: { params: JobIdParam },
      responses: retryResponses,
    }),
    async (c) => {
      const job = await retryJob(pool, c.req.valid('param').jobId, visibleTo(c.var.principal), true)
      return c.json(await withWaiting(pool, job, cfg.workerLostAfterMs), 200)
    },
  )

  return app
}
