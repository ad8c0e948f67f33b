// /v1/sla: status, credit reports (JSON, CSV, HTML), dry-run recompute, close, plans, maintenance
// windows and billing adjustments. A customer token sees only its own figures; changes are admin-only.
import { createRoute, z } from '@hono/zod-openapi'
import { customerScope, requireAdmin } from '../http/auth.ts'
import { createRouter, jsonContent, problems, security } from '../http/openapi.ts'
import { closeMonth } from './close.ts'
import type { SlaContext } from './context.ts'
import { listBillingAdjustments, listCredits } from './credits.ts'
import { customerIds } from './customers.ts'
import { computeMonth } from './figures.ts'
import { addMaintenanceWindow, maintenanceWindows } from './maintenance.ts'
import { monthOf, parseMonth } from './months.ts'
import { addPlanVersion, listPlanVersions } from './plans.ts'
import { buildCreditReport, renderCsv, renderHtml } from './report.ts'
import {
  BillingAdjustment,
  CloseResult,
  CreditRecord,
  CreditReport,
  CustomerMonth,
  MaintenanceWindow,
  MonthFigures,
  MonthKey as MonthParam,
  maintenanceWindowSchema,
  PlanVersion,
  planSchema,
} from './schemas.ts'

const CustomerParam = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/, 'not a customer id')

/** GET /sla/status: each customer's month with its DLQ size and its credit once closed; the admin also gets the factory. */
const SlaStatus = z
  .object({
    month: MonthFigures.shape.month,
    period: MonthFigures.shape.period,
    computedAt: MonthFigures.shape.computedAt,
    /** Admin only: the factory as a whole. */
    overall: MonthFigures.shape.overall.optional(),
    /** Admin only: jobs in the dead-letter queue now, all customers. */
    dlqSize: z.number().int().optional(),
    customers: z.array(
      z
        .object({
          ...CustomerMonth.shape,
          /** The customer's jobs in the dead-letter queue now. */
          dlqSize: z.number().int(),
          /** The closed record of the month, null until the month is closed for the customer. */
          credit: CreditRecord.pick({ id: true, creditPercent: true, creditCents: true })
            .extend({ closedAt: CreditRecord.shape.createdAt })
            .nullable(),
        })
        .openapi('CustomerStatus'),
    ),
  })
  .openapi('SlaStatus')

/** POST /sla/recompute: the month's figures now, next to the record issued (if any). */
const DryRun = z
  .object({
    dryRun: z.literal(true),
    ...MonthFigures.shape,
    customers: z.array(
      z
        .object({
          ...CustomerMonth.shape,
          /** The record the close issued for the month, null when it has not. */
          issued: CreditRecord.pick({
            id: true,
            creditPercent: true,
            creditCents: true,
            inputsSha256: true,
          }).nullable(),
        })
        .openapi('CustomerDryRun'),
    ),
  })
  .openapi('SlaDryRun')

const items = <T extends z.ZodType>(schema: T) => z.object({ items: z.array(schema) })

/** `dlqSize` is the orchestrator's: jobs in its dead-letter queue now. */
export function slaRoutes(ctx: SlaContext, dlqSize: (customerId?: string) => Promise<number>) {
  const app = createRouter()

  app.openapi(
    createRoute({
      method: 'get',
      path: '/sla/status',
      tags: ['sla'],
      summary: 'Figures of a month (default: this month, to date) per customer, against the plan',
      security,
      request: { query: z.object({ customerId: CustomerParam.optional(), month: MonthParam.optional() }) },
      responses: {
        200: jsonContent(SlaStatus, 'Month figures'),
        ...problems('invalid', 'unauthorized', 'forbidden', 'not_found'),
      },
    }),
    async (c) => {
      const q = c.req.valid('query')
      const scope = customerScope(c.var.principal, q.customerId)
      const month = q.month ? parseMonth(q.month) : monthOf(new Date())
      const ids = await customerIds(ctx.tenants, scope)
      const figures = await computeMonth(ctx, month, ids)
      const closed = await listCredits(ctx.pool, month, scope)
      const customers = await Promise.all(
        figures.customers.map(async (m) => {
          const r = closed.find((x) => x.customerId === m.customerId)
          return {
            ...m,
            dlqSize: await dlqSize(m.customerId),
            credit: r
              ? {
                  id: r.id,
                  creditPercent: r.creditPercent,
                  creditCents: r.creditCents,
                  closedAt: r.createdAt,
                }
              : null,
          }
        }),
      )
      const admin = c.var.principal.kind === 'admin'
      return c.json(
        {
          month: figures.month,
          period: figures.period,
          computedAt: figures.computedAt,
          ...(admin ? { overall: figures.overall, dlqSize: await dlqSize() } : {}),
          customers,
        },
        200,
      )
    },
  )

  app.openapi(
    createRoute({
      method: 'get',
      path: '/sla/credits',
      tags: ['sla'],
      summary: 'Credit report of a month as JSON, CSV or printable HTML',
      security,
      request: {
        query: z.object({
          month: MonthParam,
          customerId: CustomerParam.optional(),
          format: z.enum(['json', 'csv', 'html']).default('json'),
        }),
      },
      responses: {
        200: {
          description: 'The report',
          content: {
            'application/json': { schema: CreditReport },
            'text/csv': { schema: z.string() },
            'text/html': { schema: z.string() },
          },
        },
        ...problems('invalid', 'unauthorized', 'forbidden', 'not_found'),
      },
    }),
    async (c) => {
      const q = c.req.valid('query')
      const scope = customerScope(c.var.principal, q.customerId)
      if (scope) await customerIds(ctx.tenants, scope)
      const report = await buildCreditReport(ctx, parseMonth(q.month), scope)
      if (q.format === 'csv') {
        return c.body(renderCsv(report), 200, {
          'Content-Type': 'text/csv; charset=utf-8',
          'Content-Disposition': `attachment; filename="sla-credits-${q.month}.csv"`,
        })
      }
      if (q.format === 'html') return c.html(renderHtml(report), 200)
      return c.json(report, 200)
    },
  )

  app.openapi(
    createRoute({
      method: 'post',
      path: '/sla/recompute',
      tags: ['sla'],
      summary: 'Dry run of the monthly close (admin): the figures and credits, nothing written',
      security,
      request: { query: z.object({ month: MonthParam, customerId: CustomerParam.optional() }) },
      responses: {
        200: jsonContent(DryRun, 'What the close would issue'),
        ...problems('invalid', 'unauthorized', 'forbidden', 'not_found'),
      },
    }),
    async (c) => {
      requireAdmin(c.var.principal)
      const q = c.req.valid('query')
      const month = parseMonth(q.month)
      const ids = await customerIds(ctx.tenants, q.customerId)
      const [figures, records] = await Promise.all([
        computeMonth(ctx, month, ids),
        listCredits(ctx.pool, month, q.customerId),
      ])
      return c.json(
        {
          dryRun: true as const,
          ...figures,
          customers: figures.customers.map((m) => {
            const r = records.find((x) => x.customerId === m.customerId)
            return {
              ...m,
              issued: r
                ? {
                    id: r.id,
                    creditPercent: r.creditPercent,
                    creditCents: r.creditCents,
                    inputsSha256: r.inputsSha256,
                  }
                : null,
            }
          }),
        },
        200,
      )
    },
  )

  app.openapi(
    createRoute({
      method: 'post',
      path: '/sla/close',
      tags: ['sla'],
      summary: 'Close a past month now (admin); customers already closed are left as they are',
      security,
      request: { query: z.object({ month: MonthParam }) },
      responses: {
        200: jsonContent(CloseResult, 'Closed'),
        ...problems('invalid', 'unauthorized', 'forbidden', 'conflict'),
      },
    }),
    async (c) => {
      requireAdmin(c.var.principal)
      return c.json(await closeMonth(ctx, parseMonth(c.req.valid('query').month)), 200)
    },
  )

  const PlanParams = z.object({
    customerId: CustomerParam.openapi({ param: { name: 'customerId', in: 'path' } }),
  })

  app.openapi(
    createRoute({
      method: 'get',
      path: '/sla/plans/{customerId}',
      tags: ['sla'],
      summary: "A customer's plan versions, newest first",
      security,
      request: { params: PlanParams },
      responses: {
        200: jsonContent(items(PlanVersion), 'Plan versions'),
        ...problems('invalid', 'unauthorized', 'forbidden', 'not_found'),
      },
    }),
    async (c) => {
      const { customerId } = c.req.valid('param')
      customerScope(c.var.principal, customerId)
      return c.json({ items: await listPlanVersions(ctx, customerId) }, 200)
    },
  )

  app.openapi(
    createRoute({
      method: 'post',
      path: '/sla/plans/{customerId}',
      tags: ['sla'],
      summary: 'Add a plan version for a customer (admin), effective from a month (default: this month)',
      security,
      request: {
        params: PlanParams,
        body: {
          content: {
            'application/json': {
              schema: z.object({ plan: planSchema, effectiveFrom: MonthParam.optional() }).strict(),
            },
          },
          required: true,
        },
      },
      responses: {
        201: jsonContent(PlanVersion, 'The new version'),
        ...problems('invalid', 'unauthorized', 'forbidden', 'not_found'),
      },
    }),
    async (c) => {
      requireAdmin(c.var.principal)
      const { customerId } = c.req.valid('param')
      const body = c.req.valid('json')
      const from = body.effectiveFrom ? parseMonth(body.effectiveFrom) : monthOf(new Date())
      return c.json(await addPlanVersion(ctx, customerId, body.plan, from), 201)
    },
  )

  app.openapi(
    createRoute({
      method: 'get',
      path: '/sla/maintenance',
      tags: ['sla'],
      summary: 'Maintenance windows overlapping a month (default: this month)',
      security,
      request: { query: z.object({ month: MonthParam.optional() }) },
      responses: {
        200: jsonContent(items(MaintenanceWindow), 'Windows'),
        ...problems('invalid', 'unauthorized'),
      },
    }),
    async (c) => {
      const q = c.req.valid('query')
      const scope = customerScope(c.var.principal)
      const all = await maintenanceWindows(
        ctx.pool,
        ctx.config,
        q.month ? parseMonth(q.month) : monthOf(new Date()),
      )
      return c.json(
        { items: all.filter((w) => !scope || w.customerId === null || w.customerId === scope) },
        200,
      )
    },
  )

  app.openapi(
    createRoute({
      method: 'post',
      path: '/sla/maintenance',
      tags: ['sla'],
      summary: 'Declare a planned maintenance window (admin); its minutes are excluded from uptime',
      security,
      request: {
        body: { content: { 'application/json': { schema: maintenanceWindowSchema } }, required: true },
      },
      responses: {
        201: jsonContent(MaintenanceWindow, 'The window'),
        ...problems('invalid', 'unauthorized', 'forbidden', 'not_found'),
      },
    }),
    async (c) => {
      requireAdmin(c.var.principal)
      return c.json(await addMaintenanceWindow(ctx, c.req.valid('json')), 201)
    },
  )

  app.openapi(
    createRoute({
      method: 'get',
      path: '/sla/billing-adjustments',
      tags: ['sla'],
      summary: 'Credits as billing adjustments for a billing cycle (the month after the credited one)',
      security,
      request: { query: z.object({ cycle: MonthParam, customerId: CustomerParam.optional() }) },
      responses: {
        200: jsonContent(items(BillingAdjustment), 'Adjustments'),
        ...problems('invalid', 'unauthorized', 'forbidden'),
      },
    }),
    async (c) => {
      const q = c.req.valid('query')
      const scope = customerScope(c.var.principal, q.customerId)
      return c.json({ items: await listBillingAdjustments(ctx.pool, parseMonth(q.cycle), scope) }, 200)
    },
  )

  return app
}
