// /v1/jobs: one job (with why it is not running yet), and retrying one failed or dead-lettered job.
// Another customer's job is a 404.
import { createRoute } from '@hono/zod-openapi'
import type { Pool } from '../../db/postgres.ts'
import { createRouter, jsonContent, problems, security } from '../../http/openapi.ts'
import type { OrchestratorConfig } from '../config.ts'
import { retryJob } from '../control.ts'
import { getJob, withWaiting } from '../jobs.ts'
import { Job } from '../schemas.ts'
import { IdParam, retryResponses, visibleTo } from './shared.ts'

export function jobRoutes(pool: Pool, cfg: Pick<OrchestratorConfig, 'workerLostAfterMs'>) {
  const app = createRouter()

  app.openapi(
    createRoute({
      method: 'get',
      path: '/jobs/{id}',
      tags: ['runs'],
      summary: 'A job with its attempts, and why it is not running yet when it waits',
      security,
      request: { params: IdParam },
      responses: {
        200: jsonContent(Job, 'The job'),
        ...problems('invalid', 'unauthorized', 'not_found'),
      },
    }),
    async (c) =>
      c.json(
        await getJob(pool, c.req.valid('param').id, visibleTo(c.var.principal), cfg.workerLostAfterMs),
        200,
      ),
  )

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
    async (c) => {
      const job = await retryJob(pool, c.req.valid('param').id, visibleTo(c.var.principal))
      return c.json(await withWaiting(pool, job, cfg.workerLostAfterMs), 200)
    },
  )

  return app
}
