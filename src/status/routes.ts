// The public routes: GET /status (HTML), GET /status/feed.atom (Atom) and GET /v1/status (JSON) —
// no token: the status page is for everyone, so it holds nothing tenant-specific (snapshot.ts).
// Mounted at the root by the app; src/app.ts exempts exactly /v1/status from bearer auth.
import { createRoute, z } from '@hono/zod-openapi'
import { createRouter } from '../http/openapi.ts'
import { renderFeed } from './feed.ts'
import { renderStatusPage } from './page.ts'
import { StatusSnapshot } from './schemas.ts'

export const STATUS_JSON_PATH = '/v1/status'

// Inline CSS and SVG only: the page may load nothing, from anywhere.
const PAGE_CSP =
  "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
/** Browsers and proxies may reuse an answer this long (the snapshot itself is cached as long). */
const MAX_AGE = 'public, max-age=10'

export function statusRoutes(opts: { snapshot: () => Promise<StatusSnapshot>; baseUrl: string }) {
  const app = createRouter()
  app.openapi(
    createRoute({
      method: 'get',
      path: STATUS_JSON_PATH,
      tags: ['status'],
      summary:
        'The public status: components, open and past incidents with recovery estimates, daily uptime (no token)',
      responses: {
        200: { description: 'The status', content: { 'application/json': { schema: StatusSnapshot } } },
      },
    }),
    async (c) =>
      c.json(await opts.snapshot(), 200, {
        'Cache-Control': MAX_AGE,
        // Public data: other sites may show it.
        'Access-Control-Allow-Origin': '*',
      }),
  )
  app.openapi(
    createRoute({
      method: 'get',
      path: '/status',
      tags: ['status'],
      summary: 'The public status page (HTML; no token)',
      responses: { 200: { description: 'The page', content: { 'text/html': { schema: z.string() } } } },
    }),
    async (c) =>
      c.html(renderStatusPage(await opts.snapshot()), 200, {
        'Cache-Control': MAX_AGE,
        'Content-Security-Policy': PAGE_CSP,
        'X-Content-Type-Options': 'nosniff',
      }) as never,
  )
  app.openapi(
    createRoute({
      method: 'get',
      path: '/status/feed.atom',
      tags: ['status'],
      summary: 'Incidents as an Atom 1.0 feed (no token)',
      responses: {
        200: { description: 'The feed', content: { 'application/atom+xml': { schema: z.string() } } },
      },
    }),
    async (c) =>
      c.body(renderFeed(await opts.snapshot(), opts.baseUrl), 200, {
        'Content-Type': 'application/atom+xml; charset=utf-8',
        'Cache-Control': MAX_AGE,
        'X-Content-Type-Options': 'nosniff',
      }) as never,
  )
  return app
}
