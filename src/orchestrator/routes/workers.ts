// /v1/queues and /v1/workers: the autoscaling signal per pool and the worker fleet. They describe
// the whole factory, so they need the admin token.
import { createRoute, z } from '@hono/zod-openapi'
import type { Pool } from '../../db/postgres.ts'
import { requireAdmin } from '../../http/auth.ts'
import { createRouter, jsonContent, problems, security } from '../../http/openapi.ts'
import { listWorkers } from '../leases.ts'
import { QueueStat, WorkerRecord } from '../schemas.ts'
import type { ScalingOptions } from '../stats.ts'
import { getQueueStats } from '../stats.ts'

export function workerRoutes(pool: Pool, scaling: ScalingOptions) {
  const app = createRouter()
  const adminOnly = problems('unauthorized', 'forbidden')

  app.openapi(
    createRoute({
      method: 'get',
      path: '/queues',
      tags: ['workers'],
      summary: 'Per pool: ready depth, oldest ready age, running, live workers, recommended workers (admin)',
      security,
      responses: { 200: jsonContent(z.object({ items: z.array(QueueStat) }), 'Queues'), ...adminOnly },
    }),
    async (c) => {
      requireAdmin(c.var.principal)
      return c.json({ items: await getQueueStats(pool, scaling) }, 200)
    },
  )

  app.openapi(
    createRoute({
      method: 'get',
      path: '/workers',
      tags: ['workers'],
      summary: 'Workers: pool, status, jobs held and last heartbeat (admin)',
      security,
      responses: { 200: jsonContent(z.object({ items: z.array(WorkerRecord) }), 'Workers'), ...adminOnly },
    }),
    async (c) => {
      requireAdmin(c.var.principal)
      return c.json({ items: await listWorkers(pool) }, 200)
    },
  )

  return app
}
