// Reads a request as ClickHouse's HTTP server reads it: the query from the `query` URL parameter
// and/or the body (joined by a newline), `param_<name>` values for `{name:Type}` placeholders
// (escaped text, `\N` for NULL), `database`, `default_format`, `client_protocol_version`, and every
// other URL parameter as a setting. Credentials come from basic auth, the X-ClickHouse-User /
// X-ClickHouse-Key headers, or the `user` / `password` URL parameters (one way per request).
import { chError } from './errors.ts'
import { HTTP_LAYER } from './settings.ts'

export interface Credentials {
  user: string
  password: string
}

export interface ClickHouseRequest {
  query: string
  /** `{name:Type}` values, unescaped (null = `\N`); the engine parses them as their declared type. */
  params: Record<string, string | null>
  /** Every other URL parameter: the caller allows or refuses each as a setting. */
  settings: Map<string, string>
  database: string | undefined
  defaultFormat: string | undefined
  clientProtocolVersion: number
  queryId: string | undefined
  /** enable_http_compression=1: compress the response as the client accepts. */
  compressResponse: boolean
}

/** URL parameters of the HTTP layer that are not settings (handled here, or accepted and ignored). */
const NOT_SETTINGS = new Set([
  'query',
  'database',
  'default_format',
  'client_protocol_version',
  'query_id',
  'quota_key',
  'user',
  'password',
  'compress',
  'decompress',
  'session_id',
  'session_timeout',
  'session_check',
  'role',
])

const ESCAPES: Record<string, string> = {
  b: '\b',
  f: '\f',
  n: '\n',
  r: '\r',
  t: '\t',
  '0': '\0',
  a: '\x07',
  v: '\v',
  e: '\x1b',
}

/** A parameter value in ClickHouse's escaped text form, as the text it stands for. */
export function unescapeParam(raw: string): string | null {
  if (raw === '\\N') return null
  return raw.replace(/\\(x[0-9A-Fa-f]{2}|[\s\S])/g, (_, e: string) =>
    e.length === 3 ? String.fromCharCode(Number.parseInt(e.slice(1), 16)) : (ESCAPES[e] ?? e),
  )
}

/** The credentials of a request, from the one place it put them. */
export function credentialsOf(req: Request, url: URL): Credentials | undefined {
  const found: [string, Credentials][] = []
  const basic = /^Basic\s+(\S+)\s*$/i.exec(req.headers.get('authorization') ?? '')
  if (basic) {
    const text = Buffer.from(basic[1]!, 'base64').toString('utf8')
    const colon = text.indexOf(':')
    found.push([
      'Authorization HTTP header',
      { user: colon < 0 ? text : text.slice(0, colon), password: colon < 0 ? '' : text.slice(colon + 1) },
    ])
  } else if (req.headers.has('authorization')) {
    throw chError('AUTHENTICATION_FAILED', 'Invalid authentication: only Basic authentication is supported')
  }
  const hUser = req.headers.get('x-clickhouse-user')
  const hKey = req.headers.get('x-clickhouse-key')
  if (hUser !== null || hKey !== null)
    found.push(['X-ClickHouse HTTP headers', { user: hUser ?? 'default', password: hKey ?? '' }])
  const pUser = url.searchParams.get('user')
  const pPassword = url.searchParams.get('password')
  if (pUser !== null || pPassword !== null)
    found.push(['authentication via parameters', { user: pUser ?? 'default', password: pPassword ?? '' }])
  if (found.length > 1) {
    throw chError(
      'AUTHENTICATION_FAILED',
      `Invalid authentication: it is not allowed to use ${found[0]![0]} and ${found[1]![0]} simultaneously`,
    )
  }
  return found[0]?.[1]
}

/** Reads at most `maxBytes` of the body; more is QUERY_IS_TOO_LARGE. */
async function readBody(req: Request, maxBytes: number): Promise<Buffer> {
  if (!req.body) return Buffer.alloc(0)
  const tooLarge = () => chError('QUERY_IS_TOO_LARGE', `The request is larger than ${maxBytes} bytes`)
  if (Number(req.headers.get('content-length') ?? 0) > maxBytes) throw tooLarge()
  const chunks: Uint8Array[] = []
  let size = 0
  for await (const chunk of req.body as unknown as AsyncIterable<Uint8Array>) {
    size += chunk.length
    if (size > maxBytes) throw tooLarge()
    chunks.push(chunk)
  }
  return Buffer.concat(chunks)
}

export async function readRequest(req: Request, maxBytes: number): Promise<ClickHouseRequest> {
  const url = new URL(req.url)
  const params: Record<string, string | null> = {}
  const settings = new Map<string, string>()
  const fields = new Map<string, string>()
  for (const [name, value] of url.searchParams) {
    if (name.startsWith('param_')) params[name.slice(6)] = unescapeParam(value)
    else if (NOT_SETTINGS.has(name) || HTTP_LAYER.has(name)) fields.set(name, value)
    else settings.set(name, value)
  }
  if (req.headers.has('content-encoding'))
    throw chError('NOT_IMPLEMENTED', 'compressed request bodies are not supported')
  if (fields.get('compress') === '1' || fields.get('decompress') === '1') {
    throw chError(
      'NOT_IMPLEMENTED',
      'ClickHouse block compression (compress / decompress = 1) is not supported; use enable_http_compression=1',
    )
  }

  let body = ''
  if (req.method === 'POST') {
    const type = req.headers.get('content-type') ?? ''
    if (/^multipart\/form-data/i.test(type)) {
      // ClickHouse takes the query and param_* values as form fields; files are external tables.
      const raw = await readBody(req, maxBytes)
      const form = await new Response(raw, { headers: { 'content-type': type } }).formData()
      for (const [name, value] of form) {
        if (typeof value !== 'string')
          throw chError('NOT_IMPLEMENTED', 'external tables (files in a multipart body) are not supported')
        if (name === 'query') body = value
        else if (name.startsWith('param_')) params[name.slice(6)] = unescapeParam(value)
      }
    } else {
      body = (await readBody(req, maxBytes)).toString('utf8')
    }
  }
  const inUrl = fields.get('query') ?? ''
  if (inUrl.length + body.length > maxBytes)
    throw chError('QUERY_IS_TOO_LARGE', `The request is larger than ${maxBytes} bytes`)
  const version = fields.get('client_protocol_version') ?? '0'
  if (!/^\d{1,9}$/.test(version))
    throw chError('BAD_ARGUMENTS', `client_protocol_version must be a number, got '${version.slice(0, 32)}'`)
  return {
    query: inUrl && body ? `${inUrl}\n${body}` : inUrl || body,
    params,
    settings,
    database: fields.get('database') ?? req.headers.get('x-clickhouse-database') ?? undefined,
    defaultFormat: fields.get('default_format') ?? req.headers.get('x-clickhouse-format') ?? undefined,
    clientProtocolVersion: Number(version),
    queryId: fields.get('query_id'),
    compressResponse: fields.get('enable_http_compression') === '1',
  }
}
