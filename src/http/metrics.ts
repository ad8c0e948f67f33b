// Steward's own Prometheus metrics: one registry per app (so tests can run several apps in a
// process), default process metrics, and HTTP request durations by route template and status.
import type { MiddlewareHandler } from 'hono'
import { collectDefaultMetrics, Histogram, Registry } from 'prom-client'

export function createRegistry(): Registry {
  const registry = new Registry()
  collectDefaultMetrics({ register: registry })
  return registry
}

export function httpMetrics(registry: Registry): MiddlewareHandler {
  const duration = new Histogram({
    name: 'steward_http_request_duration_seconds',
    help: 'HTTP request duration by route template, method and status',
    labelNames: ['route', 'method', 'status'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  })
  return async (c, next) => {
    const start = performance.now()
    try {
      await next()
    } finally {
      // The matched template (e.g. /v1/runs/:id), never the raw path: label cardinality stays bounded.
      const route = c.req.routePath && c.req.routePath !== '/*' ? c.req.routePath : 'unmatched'
      duration.observe(
        { route, method: c.req.method, status: String(c.res.status) },
        (performance.now() - start) / 1000,
      )
    }
  }
}
