// /clickhouse: ClickHouse's HTTP interface, read-only, over the embedded store, for Grafana's
// ClickHouse plugin (and any ClickHouse HTTP client). With CLICKHOUSE_URL set Steward has no
// embedded store: the routes answer 404 and say to point Grafana at that server.
//
// Guarantees:
// - user `steward` with the admin token or STEWARD_GRAFANA_TOKEN as password, and nothing else
//   (customer tokens included), gets in: AUTHENTICATION_FAILED (403) otherwise, checked before
//   the body is read;
// - at most `maxConcurrentQueries` queries run at once (the rest wait their turn), so dashboards
//   cannot take every engine thread from ingest and the SLA jobs.
import { randomUUID, timingSafeEqual } from 'node:crypto'
import { promisify } from 'node:util'
import { brotliCompress, deflate, gzip } from 'node:zlib'
import { createRoute, z } from '@hono/zod-openapi'
import type { Context } from 'hono'
import type { AppEnv } from '../http/auth.ts'
import { sha256 } from '../http/auth.ts'
import { problemJson } from '../http/errors.ts'
import { createRouter, problems } from '../http/openapi.ts'
import type { ClickHouseHttpConfig } from './config.ts'
import { ClickHouseError, chError, errorResponse } from './errors.ts'
import { runQuery } from './execute.ts'
import { type Credentials, credentialsOf, readRequest } from './request.ts'

export const USER = 'steward'

export interface ClickHouseHttpOptions {
  /** The embedded store's data directory; undefined when Steward uses an external ClickHouse server. */
  embeddedPath: string | undefined
  config: ClickHouseHttpConfig
  /** Passwords that let user `steward` in (the admin token, STEWARD_GRAFANA_TOKEN). */
  passwords: () => Promise<string[]>
  /** The engine's version, for error texts. */
  version: () => Promise<string>
}

/** Constant-time: user `steward` with one of the passwords. */
export async function authorize(creds: Credentials | undefined, passwords: string[]): Promise<void> {
  if (!creds) throw chError('REQUIRED_PASSWORD', `${USER}: Password required for user ${USER}`)
  const given = sha256(creds.password)
  const ok = passwords.some((p) => timingSafeEqual(sha256(p), given))
  if (creds.user !== USER || !ok) {
    throw chError(
      'AUTHENTICATION_FAILED',
      `${creds.user.slice(0, 64)}: Authentication failed: password is incorrect, or there is no user with such name`,
    )
  }
}

/** A FIFO limit on queries running at once. */
function limiter(max: number) {
  let running = 0
  const waiting: (() => void)[] = []
  return async <T>(fn: () => Promise<T>): Promise<T> => {
    if (running >= max) await new Promise<void>((resolve) => waiting.push(resolve))
    running++
    try {
      return await fn()
    } finally {
      running--
      waiting.shift()?.()
    }
  }
}

const BINARY =
  /^(Native|RowBinary\w*|Parquet|Arrow\w*|ORC|Avro|Protobuf\w*|CapnProto|MsgPack|BSONEachRow|Npy)$/i
function contentType(format: string): string {
  if (BINARY.test(format)) return 'application/octet-stream'
  if (/^JSONEachRow$|^JSONLines$|^NDJSON$/i.test(format)) return 'application/x-ndjson; charset=UTF-8'
  if (/^JSON/i.test(format)) return 'application/json; charset=UTF-8'
  if (/^CSV/i.test(format)) return 'text/csv; charset=UTF-8; header=absent'
  if (/^(TabSeparated|TSV)/i.test(format)) return 'text/tab-separated-values; charset=UTF-8'
  return 'text/plain; charset=UTF-8'
}

const COMPRESS = {
  gzip: promisify(gzip),
  deflate: promisify(deflate),
  br: promisify(brotliCompress),
} as const

async function encode(body: Uint8Array, accept: string | undefined, enabled: boolean) {
  if (!enabled || !accept) return { body, encoding: undefined }
  const asked = accept.split(',').map((a) => a.trim().split(';')[0]!.toLowerCase())
  const encoding = (['gzip', 'deflate', 'br'] as const).find((e) => asked.includes(e))
  if (!encoding) return { body, encoding: undefined }
  return { body: new Uint8Array(await COMPRESS[encoding](body)), encoding }
}

const ClickHouseParams = z.object({
  query: z
    .string()
    .optional()
    .openapi({ description: 'The query (or its first part: the POST body follows)' }),
  database: z.string().optional(),
  default_format: z.string().optional().openapi({ description: 'Output format without a FORMAT clause' }),
  client_protocol_version: z
    .string()
    .optional()
    .openapi({ description: 'Native format revision (clickhouse-go)' }),
  query_id: z.string().optional(),
  user: z.string().optional(),
  password: z.string().optional(),
})

const text = { schema: { type: 'string' as const } }
// What contentType() can answer; JSON formats vary in shape (JSON, JSONCompact, ...): any value.
const RESULT_CONTENT = {
  'text/tab-separated-values': text,
  'text/csv': text,
  'text/plain': text,
  'application/json': { schema: {} },
  'application/x-ndjson': { schema: {} },
  'application/octet-stream': { schema: { type: 'string' as const, format: 'binary' } },
}
/** A ClickHouse exception: its text, as ClickHouse answers it. */
const exception = (description: string) => ({ description, content: { 'text/plain': text } })

const route = (method: 'get' | 'post', summary: string) =>
  createRoute({
    method,
    path: '/clickhouse',
    tags: ['grafana'],
    summary,
    description:
      'ClickHouse HTTP interface, read-only, over the embedded store: param_<name> values for {name:Type} placeholders and allowed settings as further URL parameters (docs/telemetry.md). Basic auth as user `steward` with the admin token or STEWARD_GRAFANA_TOKEN.',
    security: [{ clickhouseBasicAuth: [] }],
    request: { query: ClickHouseParams.passthrough() },
    responses: {
      200: {
        description: 'The result in the asked format (FORMAT clause, else default_format, else TSV)',
        content: RESULT_CONTENT,
      },
      400: exception('ClickHouse exception (text body, X-ClickHouse-Exception-Code)'),
      403: exception('Authentication failed (ClickHouse code 516)'),
      404: {
        description: 'Steward uses an external ClickHouse server (problem+json), or an unknown table',
        content: { ...exception('').content, ...problems('not_found')[404]!.content },
      },
    },
  })

export function clickHouseHttpRoutes(opts: ClickHouseHttpOptions) {
  const app = createRouter()
  app.openAPIRegistry.registerComponent('securitySchemes', 'clickhouseBasicAuth', {
    type: 'http',
    scheme: 'basic',
  })
  const limit = limiter(opts.config.maxConcurrentQueries)

  const external = (c: Context<AppEnv>) =>
    problemJson(c, {
      type: 'about:blank',
      title: 'Not Found',
      status: 404,
      detail:
        "Steward stores telemetry in the ClickHouse server at CLICKHOUSE_URL: point Grafana's ClickHouse datasource at that server instead (grafana/README.md)",
    })

  const handle = async (c: Context<AppEnv>): Promise<Response> => {
    const path = opts.embeddedPath
    if (path === undefined) return external(c)
    const url = new URL(c.req.url)
    // GET without a query is ClickHouse's health answer (no credentials needed, as on a server).
    if (c.req.method === 'GET' && !url.searchParams.has('query')) return c.text('Ok.\n', 200)
    try {
      await authorize(credentialsOf(c.req.raw, url), await opts.passwords())
      const req = await readRequest(c.req.raw, opts.config.maxQueryBytes)
      const result = await limit(() => runQuery(req, { path, config: opts.config }))
      const { body, encoding } = await encode(
        result.body,
        c.req.header('accept-encoding'),
        req.compressResponse,
      )
      const headers: Record<string, string> = {
        'Content-Type': contentType(result.format),
        'X-ClickHouse-Format': result.format,
        'X-ClickHouse-Query-Id': req.queryId ?? randomUUID(),
      }
      if (encoding) headers['Content-Encoding'] = encoding
      return new Response(body, { status: 200, headers })
    } catch (err) {
      if (err instanceof ClickHouseError) return errorResponse(err, await opts.version())
      throw err
    }
  }

  app.openapi(
    route('get', 'ClickHouse HTTP interface over the embedded store (read-only; Grafana)'),
    handle as never,
  )
  app.openapi(
    route('post', 'ClickHouse HTTP interface: the query in the body (read-only; Grafana)'),
    handle as never,
  )
  app.openapi(
    createRoute({
      method: 'get',
      path: '/clickhouse/ping',
      tags: ['grafana'],
      summary: 'ClickHouse HTTP interface liveness: "Ok." (no credentials, as ClickHouse)',
      responses: {
        200: { description: 'Ok.', content: { 'text/plain': text } },
        404: {
          description: 'Steward uses an external ClickHouse server',
          content: problems('not_found')[404]!.content,
        },
      },
    }),
    ((c: Context<AppEnv>) => (opts.embeddedPath === undefined ? external(c) : c.text('Ok.\n', 200))) as never,
  )
  return app
}
