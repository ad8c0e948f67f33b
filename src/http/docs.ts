// GET /docs: the API reference (Swagger UI) over GET /openapi.json, served from the installed
// swagger-ui-dist package.
//
// Guarantees: opening /docs makes no request that leaves the machine. The page, its script, its
// stylesheet and its start-up code all come from this server; Swagger UI's validator badge (which
// would call validator.swagger.io) is switched off; and a Content-Security-Policy limits the page
// to this origin, so even a future Swagger UI that wanted to fetch something elsewhere could not.
import { readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Env, Hono } from 'hono'

const dist = dirname(fileURLToPath(import.meta.resolve('swagger-ui-dist/package.json')))
const version: string = JSON.parse(readFileSync(join(dist, 'package.json'), 'utf8')).version

// Swagger UI styles its elements inline, and shows images as data: URLs.
const CSP =
  "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; " +
  "connect-src 'self'; font-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

const start = `window.addEventListener('load', function () {
  window.ui = SwaggerUIBundle({
    url: '/openapi.json',
    dom_id: '#swagger-ui',
    deepLinking: true,
    validatorUrl: null,
    presets: [SwaggerUIBundle.presets.apis],
    layout: 'BaseLayout'
  })
})
`

const page = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Steward API reference</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/docs/assets/${version}/swagger-ui.css">
</head>
<body>
<main id="swagger-ui" aria-label="Steward API reference"></main>
<script src="/docs/assets/${version}/swagger-ui-bundle.js"></script>
<script src="/docs/assets/${version}/start.js"></script>
</body>
</html>
`

const files: Record<string, { type: string; body: () => string }> = {
  'swagger-ui.css': {
    type: 'text/css; charset=utf-8',
    body: () => readFileSync(join(dist, 'swagger-ui.css'), 'utf8'),
  },
  'swagger-ui-bundle.js': {
    type: 'text/javascript; charset=utf-8',
    body: () => readFileSync(join(dist, 'swagger-ui-bundle.js'), 'utf8'),
  },
  'start.js': { type: 'text/javascript; charset=utf-8', body: () => start },
}

/** Mounts GET /docs and its assets (read from disk once, on first use). */
export function mountApiDocs<E extends Env>(app: Hono<E>): void {
  const cache = new Map<string, string>()
  app.get('/docs', (c) => c.html(page, 200, { 'Content-Security-Policy': CSP, 'Cache-Control': 'no-cache' }))
  app.get('/docs/assets/:version/:file', (c) => {
    const name = c.req.param('file')
    const f = Object.hasOwn(files, name) ? files[name] : undefined
    if (!f || c.req.param('version') !== version) return c.notFound()
    let body = cache.get(name)
    if (body === undefined) {
      body = f.body()
      cache.set(name, body)
    }
    // The version is in the path, so an asset never changes under its URL.
    return c.body(body, 200, {
      'Content-Type': f.type,
      'Cache-Control': 'public, max-age=31536000, immutable',
      'X-Content-Type-Options': 'nosniff',
    })
  })
}
