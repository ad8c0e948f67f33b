// HTTP routes of the orchestrator under /v1: runs, jobs, the DLQ, queues and workers.
// A customer token sees and acts on its own runs only (another customer's run is a 404);
// queues and workers describe the whole factory and need the admin token.
import { createRoute, z } from '@hono/zod-openapi'
import type { Pool } from '../db/postgres.ts'
import { NotFoundError } from '../errors.ts'
import { canSee, customerScope, requireAdmin } from '../http/auth.ts'
import { createRouter, errorResponses, jsonContent, problems, security } from '../http/openapi.ts'
import type { PricingModule } from '../pricing/index.ts'
import type { TenantsModule } from '../tenants/index.ts'
import type { OrchestratorConfig } from './config.ts'
import { cancelRun, listDlq, resumeRun, retryJob } from './control.ts'
import { listWorkers } from './leases.ts'
import { createRun, getRunDetail, listRuns, runOwner } from './runs.ts'
import { getQueueStats } from './stats.ts'
import { checkCustomerSettings, RunRequest } from './validate.ts'

const Id = z.string().min(1).max(128)
const IdParam = z.object({ id: Id.openapi({ param: { name: 'id', in: 'path' } }) })
const JobIdParam = z.object({ jobId: Id.openapi({ param: { name: 'jobId', in: 'path' } }) })
const RunStatus = z.enum(['queued', 'running', 'succeeded', 'failed', 'cancelled'])
const Loose = (name: string) => z.looseObject({}).openapi(name)
const Run = Loose('Run')
const Job = Loose('Job')
const conflict = problems('conflict', 'unprocessable')
/** The optional body of a cancel: why (kept with the run and on its telemetry event). */
const CancelRequest = z.object({ reason: z.string().min(1).max(500).optional() }).strict()

export interface OrchestratorRouteDeps {
  pool: Pool
  config: OrchestratorConfig
  /** Puts an amount on a run's cost; without it, usage only. */
  pricing?: Pick<PricingModule, 'price'>
  tenants: Pick<TenantsModule, 'settingsOf'>
}

export function orchestratorRoutes({ pool, config: cfg, pricing, tenants }: OrchestratorRouteDeps) {
  const app = createRouter()

  app.openapi(
    createRoute({
      method: 'post',
      path: '/runs',
      tags: ['runs'],
      summary: 'Submit a run (a DAG of steps); validated completely before anything is stored',
      security,
      request: { body: { content: { 'application/json': { schema: RunRequest } }, required: true } },
      responses: {
        201: jsonContent(z.object({ id: z.string(), status: RunStatus }), 'Created'),
        200: jsonContent(
          z.object({ id: z.string(), status: RunStatus }),
          'The earlier run with this idempotencyKey',
        ),
        ...errorResponses,
        ...conflict,
      },
    }),
    async (c) => {
      const body = c.req.valid('json')
      customerScope(c.var.principal, body.customerId)
      // The customer's own settings bound what its token may ask for (the admin may ask anything).
      if (c.var.principal.kind === 'customer')
        checkCustomerSettings(body, await tenants.settingsOf(body.customerId))
      const run = await createRun(pool, cfg, body)
      return c.json({ id: run.id, status: run.status as z.infer<typeof RunStatus> }, run.created ? 201 : 200)
    },
  )

  app.openapi(
    createRoute({
      method: 'get',
      path: '/runs',
      tags: ['runs'],
      summary: 'List runs, newest first (a customer token lists its own)',
      security,
      request: {
        query: z.object({
          customerId: z.string().max(64).optional(),
          projectId: z.string().max(128).optional(),
          status: RunStatus.optional(),
          before: z.iso.datetime({ offset: true }).optional(),
          limit: z.coerce.number().int().min(1).max(500).default(50),
        }),
      },
      responses: { 200: jsonContent(z.object({ items: z.array(Run) }), 'Runs'), ...errorResponses },
    }),
    async (c) => {
      const q = c.req.valid('query')
      const items = await listRuns(pool, { ...q, customerId: customerScope(c.var.principal, q.customerId) })
      return c.json({ items }, 200)
    },
  )

  const visible = (p: Parameters<typeof canSee>[0]) => (customerId: string) => canSee(p, customerId)

  app.openapi(
    createRoute({
      method: 'get',
      path: '/runs/{id}',
      tags: ['runs'],
      summary: 'A run with its steps, their attempts and errors, and its cost',
      security,
      request: { params: IdParam },
      responses: { 200: jsonContent(Run, 'The run'), ...errorResponses },
    }),
    async (c) => {
      const { id } = c.req.valid('param')
      const owner = await runOwner(pool, id)
      if (!owner || !canSee(c.var.principal, owner)) throw new NotFoundError(`run ${id}`)
      return c.json(await getRunDetail(pool, id, pricing?.price), 200)
    },
  )

  app.openapi(
    createRoute({
      method: 'post',
      path: '/runs/{id}/resume',
      tags: ['runs'],
      summary: 'Resume a failed or cancelled run: only jobs that did not succeed run again',
      security,
      request: { params: IdParam },
      responses: { 200: jsonContent(Run, 'The run'), ...errorResponses, ...conflict },
    }),
    async (c) => c.json(await resumeRun(pool, c.req.valid('param').id, visible(c.var.principal)), 200),
  )

  app.openapi(
    createRoute({
      method: 'post',
      path: '/runs/{id}/cancel',
      tags: ['runs'],
      summary:
        'Cancel a run: queued jobs stop, running jobs are aborted; records who cancelled (admin: an operator) and why',
      security,
      request: {
        params: IdParam,
        body: { content: { 'application/json': { schema: CancelRequest } }, required: false },
      },
      responses: {
        200: jsonContent(Run, 'The run'),
        ...errorResponses,
        ...conflict,
        ...problems('unsupported_media_type'),
      },
    }),
    async (c) => {
      const p = c.var.principal
      const { reason } = c.req.valid('json')
      const by =
        p.kind === 'admin'
          ? { by: 'operator' as const, actor: 'admin' }
          : { by: 'customer' as const, actor: `customer:${p.customerId}/token:${p.tokenId}` }
      return c.json(await cancelRun(pool, c.req.valid('param').id, visible(p), { ...by, reason }), 200)
    },
  )

  app.openapi(
    createRoute({
      method: 'post',
      path: '/jobs/{id}/retry',
      tags: ['runs'],
      summary: 'Retry one failed or dead-lettered job',
      security,
      request: { params: IdParam },
      responses: { 200: jsonContent(Job, 'The job, queued again'), ...errorResponses, ...conflict },
    }),
    async (c) => c.json(await retryJob(pool, c.req.valid('param').id, visible(c.var.principal)), 200),
  )

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
        200: jsonContent(z.object({ items: z.array(Job) }), 'Dead-lettered jobs'),
        ...errorResponses,
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
      responses: { 200: jsonContent(Job, 'The job, queued again'), ...errorResponses, ...conflict },
    }),
    async (c) =>
      c.json(await retryJob(pool, c.req.valid('param').jobId, visible(c.var.principal), true), 200),
  )

  app.openapi(
    createRoute({
      method: 'get',
      path: '/queues',
      tags: ['workers'],
      summary: 'Per pool: ready depth, oldest ready age, running, live workers, recommended workers (admin)',
      security,
      responses: {
        200: jsonContent(z.object({ items: z.array(Loose('QueueStat')) }), 'Queues'),
        ...errorResponses,
      },
    }),
    async (c) => {
      requireAdmin(c.var.principal)
      return c.json({ items: await getQueueStats(pool, cfg) }, 200)
    },
  )

  app.openapi(
    createRoute({
      method: 'get',
      path: '/workers',
      tags: ['workers'],
      summary: 'Workers: pool, status, jobs held and last heartbeat (admin)',
      security,
      responses: {
        200: jsonContent(z.object({ items: z.array(Loose('Worker')) }), 'Workers'),
        ...errorResponses,
      },
    }),
    async (c) => {
      requireAdmin(c.var.principal)
      return c.json({ items: await listWorkers(pool) }, 200)
    },
  )

  return app
}
