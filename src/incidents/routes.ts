// /v1/incidents and /v1/incident-silences. The admin sees and acts on every incident; a customer
// token sees only incidents that affect its customer (others are 404), in a view without the
// internal timeline (evaluations, pages), and may not change anything.
import { createRoute, z } from '@hono/zod-openapi'
import type { ClickHouseClient } from '../db/clickhouse.ts'
import type { Pool, PoolClient } from '../db/postgres.ts'
import { transaction } from '../db/postgres.ts'
import { ConflictError, NotFoundError } from '../errors.ts'
import { customerScope, type Principal, requireAdmin } from '../http/auth.ts'
import { createRouter, errorResponses, jsonContent, problems, security } from '../http/openapi.ts'
import type { IncidentsConfig } from './config.ts'
import { customerTimeline } from './customer.ts'
import { acknowledgeLocked, type LifecycleContext, postUpdate, resolveLocked } from './lifecycle.ts'
import { buildReport, renderMarkdown } from './report.ts'
import { silenceRoutes } from './silences.ts'
import {
  getIncident,
  getTimeline,
  type Incident,
  type IncidentRow,
  listIncidents,
  SQL,
  type TimelineEntry,
  toIncident,
} from './store.ts'

const IncidentId = z
  .string()
  .regex(/^inc_[0-9a-f-]{36}$/, 'an incident id (inc_<uuid>)')
  .openapi({ param: { name: 'id', in: 'path' }, example: 'inc_0b6f8a52-6c2e-4d8e-9d51-0f2b1a7c3e44' })
const IdParam = z.object({ id: IncidentId })

/** The furthest ahead an operator may estimate recovery. */
const MAX_ESTIMATE_MS = 366 * 24 * 3600_000

const UpdateBody = z
  .object({
    message: z.string().trim().min(1).max(4000),
    /** When the operator expects recovery; replaces the incident's estimate (default: its RTO target). */
    estimatedRecoveryAt: z.iso
      .datetime({ offset: true, error: 'must be an ISO 8601 date-time with a time zone' })
      .refine((v) => Date.parse(v) > Date.now(), 'must be in the future')
      .refine((v) => Date.parse(v) < Date.now() + MAX_ESTIMATE_MS, 'must be within a year')
      .optional(),
  })
  .strict()

const IncidentSchema = z
  .object({
    id: z.string(),
    rule: z.string(),
    scope: z.string(),
    severity: z.enum(['critical', 'error', 'warning', 'info']),
    status: z.enum(['triggered', 'acknowledged', 'resolved']),
    summary: z.string(),
    customerIds: z.array(z.string()),
    openedAt: z.string(),
    acknowledgedAt: z.string().nullable(),
    resolvedAt: z.string().nullable(),
    recoveryKind: z.string().nullable(),
    estimatedRecoveryAt: z.string().nullable(),
    estimateSource: z.enum(['rto_target', 'operator']).nullable(),
  })
  .passthrough()
  .openapi('Incident')
const Timeline = z.array(
  z.object({
    id: z.number(),
    at: z.string(),
    kind: z.string(),
    message: z.string(),
    detail: z.record(z.string(), z.unknown()),
  }),
)
/** What a customer sees: its own customer id only, and the public part of the timeline. */
function forPrincipal(p: Principal, i: Incident, timeline?: TimelineEntry[]) {
  if (p.kind === 'admin') return timeline ? { ...i, timeline } : i
  const { details: _d, paged: _p, silenced: _s, clearedSince: _c, lastFiringAt: _l, ...pub } = i
  const visible = timeline && customerTimeline(timeline)
  return { ...pub, customerIds: [p.customerId], ...(visible ? { timeline: visible } : {}) }
}

export interface RouteDeps {
  pool: Pool
  clickhouse?: ClickHouseClient
  config: IncidentsConfig
  ctx: LifecycleContext
  /** Called after a change that queued deliveries. */
  kick(): void
}

export function incidentRoutes(d: RouteDeps) {
  const app = createRouter()

  /** Loads an incident the principal may see, or 404. */
  async function visible(p: Principal, id: string): Promise<Incident> {
    const i = await getIncident(d.pool, id)
    if (!i || (p.kind === 'customer' && !i.customerIds.includes(p.customerId)))
      throw new NotFoundError(`incident ${id}`)
    return i
  }

  /** Runs `fn` on the locked incident (admin only). */
  async function change<T>(
    p: Principal,
    id: string,
    fn: (db: PoolClient, row: IncidentRow) => Promise<T>,
  ): Promise<T> {
    requireAdmin(p)
    const out = await transaction(d.pool, async (db) => {
      const { rows } = await db.query<IncidentRow>(SQL.getForUpdate, [id])
      if (!rows[0]) throw new NotFoundError(`incident ${id}`)
      return fn(db, rows[0])
    })
    d.kick()
    return out
  }

  app.openapi(
    createRoute({
      method: 'get',
      path: '/incidents',
      tags: ['incidents'],
      summary: 'List incidents (a customer token lists those affecting it)',
      security,
      request: {
        query: z.object({
          customerId: z.string().min(1).max(64).optional(),
          status: z.enum(['triggered', 'acknowledged', 'resolved']).optional(),
          limit: z.coerce.number().int().min(1).max(500).default(100),
        }),
      },
      responses: {
        200: jsonContent(z.object({ items: z.array(IncidentSchema) }), 'Incidents, newest first'),
        ...errorResponses,
      },
    }),
    async (c) => {
      const q = c.req.valid('query')
      const p = c.var.principal
      const items = await listIncidents(d.pool, {
        customerId: customerScope(p, q.customerId),
        status: q.status,
        limit: q.limit,
      })
      return c.json({ items: items.map((i) => forPrincipal(p, i)) } as never, 200)
    },
  )

  app.openapi(
    createRoute({
      method: 'get',
      path: '/incidents/{id}',
      tags: ['incidents'],
      summary: 'An incident with its timeline',
      security,
      request: { params: IdParam },
      responses: {
        200: jsonContent(IncidentSchema.extend({ timeline: Timeline }), 'The incident'),
        ...errorResponses,
      },
    }),
    async (c) => {
      const { id } = c.req.valid('param')
      const i = await visible(c.var.principal, id)
      return c.json(forPrincipal(c.var.principal, i, await getTimeline(d.pool, id)) as never, 200)
    },
  )

  for (const action of ['acknowledge', 'resolve'] as const) {
    app.openapi(
      createRoute({
        method: 'post',
        path: `/incidents/{id}/${action}`,
        tags: ['incidents'],
        summary:
          action === 'acknowledge'
            ? 'Acknowledge (admin; mirrored to PagerDuty)'
            : 'Resolve (admin; mirrored to PagerDuty, customers notified)',
        security,
        request: { params: IdParam },
        responses: {
          200: jsonContent(IncidentSchema, 'The incident after the change'),
          ...errorResponses,
          ...problems('conflict'),
        },
      }),
      async (c) => {
        const { id } = c.req.valid('param')
        const row = await change(c.var.principal, id, async (db, row) => {
          const ok =
            action === 'acknowledge'
              ? await acknowledgeLocked(db, row, 'operator', new Date())
              : await resolveLocked(db, row, 'operator', new Date(), d.ctx)
          if (!ok) throw new ConflictError(`incident ${id} is ${row.status}; it cannot be ${action}d`)
          return row
        })
        return c.json(toIncident(row) as never, 200)
      },
    )
  }

  app.openapi(
    createRoute({
      method: 'post',
      path: '/incidents/{id}/updates',
      tags: ['incidents'],
      summary:
        'Post a status update (optionally with a new recovery estimate) to the timeline and every affected customer (admin)',
      security,
      request: {
        params: IdParam,
        body: {
          content: {
            'application/json': {
              schema: UpdateBody,
            },
          },
          required: true,
        },
      },
      responses: {
        201: jsonContent(z.object({ queued: z.number() }), 'Queued for each affected customer'),
        ...errorResponses,
        // An estimate for a resolved incident.
        ...problems('conflict'),
      },
    }),
    async (c) => {
      const { id } = c.req.valid('param')
      const { message, estimatedRecoveryAt } = c.req.valid('json')
      const estimate = estimatedRecoveryAt ? new Date(estimatedRecoveryAt) : undefined
      const queued = await change(c.var.principal, id, (db, row) => {
        if (estimate && row.status === 'resolved')
          throw new ConflictError(`incident ${id} is resolved; it takes no recovery estimate`)
        return postUpdate(db, row, message, new Date(), d.ctx, estimate)
      })
      return c.json({ queued }, 201)
    },
  )

  app.openapi(
    createRoute({
      method: 'patch',
      path: '/incidents/{id}',
      tags: ['incidents'],
      summary: 'Fill in root cause and prevention (admin)',
      security,
      request: {
        params: IdParam,
        body: {
          content: {
            'application/json': {
              schema: z
                .object({
                  rootCause: z.string().trim().min(1).max(20_000).optional(),
                  prevention: z.string().trim().min(1).max(20_000).optional(),
                })
                .strict()
                .refine(
                  (b) => b.rootCause !== undefined || b.prevention !== undefined,
                  'give rootCause and/or prevention',
                ),
            },
          },
          required: true,
        },
      },
      responses: { 200: jsonContent(IncidentSchema, 'The incident'), ...errorResponses },
    }),
    async (c) => {
      const { id } = c.req.valid('param')
      const b = c.req.valid('json')
      const row = await change(c.var.principal, id, async (db) => {
        const { rows } = await db.query<IncidentRow>(SQL.annotate, [
          id,
          b.rootCause ?? null,
          b.prevention ?? null,
        ])
        await db.query(`INSERT INTO incident_timeline (incident_id, kind, message) VALUES ($1, 'note', $2)`, [
          id,
          `post-incident fields updated: ${Object.keys(b).join(', ')}`,
        ])
        return rows[0]!
      })
      return c.json(toIncident(row) as never, 200)
    },
  )

  app.openapi(
    createRoute({
      method: 'get',
      path: '/incidents/{id}/report',
      tags: ['incidents'],
      summary: 'Post-incident report (JSON, or Markdown with format=markdown or Accept: text/markdown)',
      security,
      request: { params: IdParam, query: z.object({ format: z.enum(['json', 'markdown']).optional() }) },
      responses: {
        200: {
          description: 'The report',
          content: {
            'application/json': { schema: z.record(z.string(), z.unknown()) },
            'text/markdown': { schema: z.string() },
          },
        },
        ...errorResponses,
      },
    }),
    async (c) => {
      const { id } = c.req.valid('param')
      const p = c.var.principal
      const i = await visible(p, id)
      const report = await buildReport(i, await getTimeline(d.pool, id), d.clickhouse, d.config.rules)
      if (p.kind === 'customer') {
        report.affectedCustomers = report.affectedCustomers.filter((x) => x.customerId === p.customerId)
        report.affectedRuns = report.affectedCustomers.reduce((n, x) => n + x.failedRuns, 0)
        const view = forPrincipal(p, i, report.timeline) as Incident & { timeline: TimelineEntry[] }
        report.timeline = view.timeline
        report.incident = view
      }
      const format =
        c.req.valid('query').format ??
        (/text\/markdown/.test(c.req.header('accept') ?? '') ? 'markdown' : 'json')
      if (format === 'markdown')
        return c.body(renderMarkdown(report), 200, {
          'Content-Type': 'text/markdown; charset=utf-8',
        }) as never
      return c.json(report as never, 200)
    },
  )

  silenceRoutes(app, d.pool)
  return app
}
