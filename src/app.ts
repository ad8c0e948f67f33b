// Composes the HTTP app: shared middleware, health and metrics, the OpenAPI document, and each
// module's router under /v1 behind bearer auth. Every error leaves as problem+json.
import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi'
import { bodyLimit } from 'hono/body-limit'
import type { Registry } from 'prom-client'
import { PayloadTooLargeError } from './errors.ts'
import { type AppEnv, bearerAuth, sameSecret, type TokenResolver } from './http/auth.ts'
import type { AuthFailureLimits } from './http/auth-failures.ts'
import { mountApiDocs } from './http/docs.ts'
import { problemJson, problemResponse, toProblem } from './http/errors.ts'
import { httpMetrics } from './http/metrics.ts'
import { problems } from './http/openapi.ts'
import type { Logger } from './log.ts'
import type { StewardModule } from './module.ts'

export interface AppOptions {
  adminToken: string
  resolveToken: TokenResolver
  /** Rate limit of failed authentications per client address (none when absent). */
  authFailures?: AuthFailureLimits
  metrics: Registry
  log: Logger
  modules: StewardModule[]
  /** Resolves with readiness detail, or throws with the reason Steward is not ready. */
  readiness: () => Promise<Record<string, unknown>>
  version: string
  /** Scrapers presenting this bearer token see per-customer series on /metrics; others never do. */
  metricsToken?: string
  /** Default JSON body limit; routes may set their own (ingest takes larger batches). */
  maxBodyBytes?: number
}

/**
 * The exposition without samples that name a customer (a non-empty `customer` label): who the
 * customers are and how their month goes is not for an unauthenticated scraper.
 */
function withoutCustomers(text: string): string {
  return text
    .split('\n')
    .filter((line) => line.startsWith('#') || !/[{,]customer="(?:[^"\\]|\\.)+"/.test(line))
    .join('\n')
}

/**
 * Refusals every /v1 operation shares: a body over its size (413, the limit applies to all /v1
 * routes), and too many failed authentications from the client's address (429).
 */
function withSharedProblems<D extends { paths?: object }>(doc: D): D {
  // The generated document refers to the Problem component; so do these added responses.
  const descriptions = problems('payload_too_large', 'rate_limited')
  const shared = (status: 413 | 429) => ({
    description: descriptions[status]!.description,
    content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } },
  })
  for (const [path, ops] of Object.entries(doc.paths ?? {}) as [string, object][])
    for (const op of Object.values(ops) as { requestBody?: unknown; responses?: Record<string, unknown> }[]) {
      if (!op.responses) continue
      if (op.requestBody && !op.responses['413']) op.responses['413'] = shared(413)
      if (path.startsWith('/v1/') && !path.startsWith('/v1/integrations/') && !op.responses['429'])
        op.responses['429'] = shared(429)
    }
  return doc
}

export function createApp(opts: AppOptions): OpenAPIHono<AppEnv> {
  const app = new OpenAPIHono<AppEnv>({ strict: false })
  const maxBody = opts.maxBodyBytes ?? 1024 * 1024

  app.onError((err, c) =>
    problemResponse(c, err, (e) => opts.log.error('unhandled error', { path: c.req.path, error: e })),
  )
  app.notFound((c) =>
    problemJson(c, {
      type: 'about:blank',
      title: 'Not Found',
      status: 404,
      detail: `no route for ${c.req.path}`,
    }),
  )
  app.use('*', httpMetrics(opts.metrics))

  const plain = (description: string, schema: z.ZodType, mediaType = 'application/json') => ({
    description,
    content: { [mediaType]: { schema } },
  })
  const Readiness = z.object({ status: z.string(), reason: z.string().optional() }).catchall(z.unknown())
  app.openapi(
    createRoute({
      method: 'get',
      path: '/healthz',
      tags: ['operations'],
      summary: 'Liveness: the process answers (no token)',
      responses: { 200: plain('Alive', z.object({ status: z.literal('ok'), version: z.string() })) },
    }),
    (c) => c.json({ status: 'ok' as const, version: opts.version }, 200),
  )
  app.openapi(
    createRoute({
      method: 'get',
      path: '/readyz',
      tags: ['operations'],
      summary: 'Readiness: both databases answer and migrations ran; module detail (no token)',
      responses: { 200: plain('Ready', Readiness), 503: plain('Not ready, and why', Readiness) },
    }),
    async (c) => {
      try {
        return c.json({ status: 'ready', ...(await opts.readiness()) }, 200)
      } catch (err) {
        return c.json({ status: 'not ready', reason: (err as Error).message }, 503)
      }
    },
  )
  app.openapi(
    createRoute({
      method: 'get',
      path: '/metrics',
      tags: ['operations'],
      summary:
        'Prometheus metrics (text exposition format; no token: per-customer series only with STEWARD_METRICS_TOKEN)',
      responses: { 200: plain('Metrics', z.string(), 'text/plain') },
    }),
    async (c) => {
      const text = await opts.metrics.metrics()
      const token = /^Bearer\s+(\S+)\s*$/i.exec(c.req.header('authorization') ?? '')?.[1]
      const full =
        opts.metricsToken !== undefined && token !== undefined && sameSecret(token, opts.metricsToken)
      return c.body(full ? text : withoutCustomers(text), 200, { 'Content-Type': opts.metrics.contentType })
    },
  )

  const bearer = bearerAuth(opts.adminToken, opts.resolveToken, opts.authFailures)
  // Signed integrations (PagerDuty webhooks) authenticate by signature in their module's publicRoutes;
  // /v1/status is the public status page's JSON (src/status), for everyone.
  const open = (path: string) => path.startsWith('/v1/integrations/') || path === '/v1/status'
  app.use('/v1/*', (c, next) => (open(c.req.path) ? next() : bearer(c, next)))
  app.use('/v1/*', async (c, next) => {
    // Ingest declares its own (larger) limit; everything else gets the default.
    if (c.req.path === '/v1/events') return next()
    return bodyLimit({
      maxSize: maxBody,
      onError: (c) =>
        problemJson(
          c,
          toProblem(new PayloadTooLargeError(`the body exceeds ${maxBody} bytes`, { limitBytes: maxBody }))
            .problem,
        ),
    })(c, next)
  })
  for (const m of opts.modules) {
    if (m.routes) app.route('/v1', m.routes)
    if (m.publicRoutes) app.route('/', m.publicRoutes)
  }
  // A known path with the wrong method is a 405 naming the allowed methods; an unknown one a 404.
  const templates = app.routes
    .filter((r) => r.method !== 'ALL')
    .map((r) => ({ method: r.method, re: new RegExp(`^${r.path.replace(/:[^/]+/g, '[^/]+')}/?$`) }))
  app.all('/v1/*', (c) => {
    const allowed = [...new Set(templates.filter((t) => t.re.test(c.req.path)).map((t) => t.method))]
    if (allowed.length === 0) {
      return problemJson(c, {
        type: 'about:blank',
        title: 'Not Found',
        status: 404,
        detail: `no route for ${c.req.path}`,
      })
    }
    return problemJson(
      c,
      {
        type: 'about:blank',
        title: 'Method Not Allowed',
        status: 405,
        detail: `${c.req.method} is not allowed here`,
      },
      { Allow: allowed.join(', ') },
    )
  })

  app.openAPIRegistry.registerComponent('securitySchemes', 'bearerAuth', { type: 'http', scheme: 'bearer' })
  const info = {
    title: 'Steward API',
    version: opts.version,
    description: 'Runs, telemetry, SLAs and incidents of an AI software factory.',
  }
  let document: ReturnType<typeof app.getOpenAPI31Document> | undefined
  app.get('/openapi.json', (c) => {
    document ??= withSharedProblems(app.getOpenAPI31Document({ openapi: '3.1.0', info }))
    return c.json(document)
  })
  mountApiDocs(app)
  return app
}
