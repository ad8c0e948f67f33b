// GET /v1/incidents/{id}/report: the post-incident report as JSON, or Markdown (format=markdown or
// Accept: text/markdown). Whoever may read the incident may read its report; a customer's report
// names its own customer only and shows its view of the incident and timeline.
import { createRoute, z } from '@hono/zod-openapi'
import { createRouter, problems, security } from '../../http/openapi.ts'
import { buildReport, renderMarkdown } from '../report.ts'
import { IncidentReport } from '../schemas.ts'
import { getTimeline } from '../timeline.ts'
import { IdParam } from './params.ts'
import { type RouteDeps, visibleIncident, withTimelineFor } from './views.ts'

export function reportRoutes(d: RouteDeps) {
  const app = createRouter()

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
            'application/json': { schema: IncidentReport },
            'text/markdown': { schema: z.string() },
          },
        },
        ...problems('invalid', 'unauthorized', 'not_found'),
      },
    }),
    async (c) => {
      const { id } = c.req.valid('param')
      const p = c.var.principal
      const i = await visibleIncident(d.pool, p, id)
      const report = await buildReport(i, await getTimeline(d.pool, id), d.clickhouse, d.config.rules)
      if (p.kind === 'customer') {
        report.affectedCustomers = report.affectedCustomers.filter((x) => x.customerId === p.customerId)
        report.affectedRuns = report.affectedCustomers.reduce((n, x) => n + x.failedRuns, 0)
        const view = withTimelineFor(p, i, report.timeline)
        report.timeline = view.timeline
        report.incident = view
      }
      const format =
        c.req.valid('query').format ??
        (/text\/markdown/.test(c.req.header('accept') ?? '') ? 'markdown' : 'json')
      if (format === 'markdown')
        return c.body(renderMarkdown(report), 200, { 'Content-Type': 'text/markdown; charset=utf-8' })
      return c.json(report, 200)
    },
  )

  return app
}
