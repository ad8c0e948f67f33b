// /v1/runs: submit, list, read (steps, attempts, cost), resume and cancel runs. A customer token
// submits runs for its own customer only (else 403) and sees and acts on its own runs only:
// another customer's run is a 404.
import { createRoute, z } from '@hono/zod-openapi'
import type { Pool } from '../../db/postgres.ts'
import { NotFoundError } from '../../errors.ts'
import { canSee, customerScope } from '../../http/auth.ts'
import { createRouter, jsonContent, problems, security } from '../../http/openapi.ts'
import type { PricingModule } from '../../pricing/index.ts'
import type { TenantsModule } from '../../tenants/index.ts'
import type { OrchestratorConfig } from '../config.ts'
import { cancelRun, resumeRun } from '../control.ts'
import { createRun } from '../create-run.ts'
import type { Handlers } from '../handlers.ts'
import { explainWaiting } from '../jobs.ts'
import { getRunDetail, type JobRow, listRuns, runOwner } from '../runs.ts'
import { CancelRequest, CreatedRun, ResumedRun, Run, RunDetail, RunStatus } from '../schemas.ts'
import { checkCustomerSettings, runRequestSchema } from '../validate.ts'
import { IdParam, visibleTo } from './shared.ts'

export interface RunRouteDeps {
  pool: Pool
  config: OrchestratorConfig
  /** The kinds runs may use (each step's input is validated against its kind's schema). */
  handlers: Handlers
  /** Puts an amount on a run's cost. */
  pricing: Pick<PricingModule, 'price'>
  tenants: Pick<TenantsModule, 'settingsOf'>
}

export function runRoutes({ pool, config: cfg, handlers, pricing, tenants }: RunRouteDeps) {
  const app = createRouter()
  const RunRequest = runRequestSchema(handlers)

  app.openapi(
    createRoute({
      method: 'post',
      path: '/runs',
      tags: ['runs'],
      summary: 'Submit a run (a DAG of steps); validated completely before anything is stored',
      security,
      request: { body: { content: { 'application/json': { schema: RunRequest } }, required: true } },
      responses: {
        201: jsonContent(CreatedRun, 'Created'),
        200: jsonContent(CreatedRun, 'The earlier run with this idempotencyKey'),
        ...problems('invalid', 'unauthorized', 'forbidden', 'unprocessable'),
      },
    }),
    async (c) => {
      const body = c.req.valid('json')
      customerScope(c.var.principal, body.customerId)
      // The customer's own settings bound what its token may ask for (the admin may ask anything).
      if (c.var.principal.kind === 'customer')
        checkCustomerSettings(body, await tenants.settingsOf(body.customerId))
      const run = await createRun(pool, cfg, handlers, body)
      return c.json({ id: run.id, status: run.status, traceId: run.traceId }, run.created ? 201 : 200)
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
      responses: {
        200: jsonContent(z.object({ items: z.array(Run) }), 'Runs'),
        ...problems('invalid', 'unauthorized', 'forbidden'),
      },
    }),
    async (c) => {
      const q = c.req.valid('query')
      const items = await listRuns(pool, { ...q, customerId: customerScope(c.var.principal, q.customerId) })
      return c.json({ items }, 200)
    },
  )

  app.openapi(
    createRoute({
      method: 'get',
      path: '/runs/{id}',
      tags: ['runs'],
      summary:
        'A run with its steps (their attempts, errors, and why a waiting one is not running) and its cost',
      security,
      request: { params: IdParam },
      responses: {
        200: jsonContent(RunDetail, 'The run'),
        ...problems('invalid', 'unauthorized', 'not_found'),
      },
    }),
    async (c) => {
      const { id } = c.req.valid('param')
      const owner = await runOwner(pool, id)
      if (!owner || !canSee(c.var.principal, owner)) throw new NotFoundError(`run ${id}`)
      const explain = (jobs: JobRow[]) => explainWaiting(pool, jobs, cfg.workerLostAfterMs)
      return c.json(await getRunDetail(pool, id, pricing.price, explain), 200)
    },
  )

  const actionErrors = problems('invalid', 'unauthorized', 'not_found', 'conflict')

  app.openapi(
    createRoute({
      method: 'post',
      path: '/runs/{id}/resume',
      tags: ['runs'],
      summary: 'Resume a failed or cancelled run: only jobs that did not succeed run again',
      security,
      request: { params: IdParam },
      responses: { 200: jsonContent(ResumedRun, 'The run, with the jobs queued again'), ...actionErrors },
    }),
    async (c) => c.json(await resumeRun(pool, c.req.valid('param').id, visibleTo(c.var.principal)), 200),
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
        ...actionErrors,
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
      return c.json(await cancelRun(pool, c.req.valid('param').id, visibleTo(p), { ...by, reason }), 200)
    },
  )

  return app
}
