// Requests to /clickhouse as a ClickHouse HTTP client sends them, answered in-process.
import { ADMIN_TOKEN, type TestSteward } from '../helpers/app.ts'

export interface ChAnswer {
  status: number
  /** X-ClickHouse-Exception-Code, as a number (undefined on success). */
  code: number | undefined
  text: string
  headers: Headers
}

export async function ch(
  s: TestSteward,
  opts: {
    /** The POST body (the query, or its second part). */
    body?: string
    /** URL parameters: query, settings, param_*, database, ... */
    url?: Record<string, string>
    /** Basic auth (default: steward + the admin token); null: none. */
    auth?: { user: string; password: string } | null
    headers?: Record<string, string>
    method?: 'GET' | 'POST'
  },
): Promise<ChAnswer> {
  const headers: Record<string, string> = { ...opts.headers }
  const auth = opts.auth === undefined ? { user: 'steward', password: ADMIN_TOKEN } : opts.auth
  if (auth) headers.authorization = `Basic ${Buffer.from(`${auth.user}:${auth.password}`).toString('base64')}`
  const search = new URLSearchParams(opts.url ?? {}).toString()
  const method = opts.method ?? (opts.body === undefined ? 'GET' : 'POST')
  const res = await s.fetch(
    new Request(`http://steward.test/clickhouse${search ? `?${search}` : ''}`, {
      method,
      headers,
      body: opts.body,
    }),
  )
  const code = res.headers.get('x-clickhouse-exception-code')
  return {
    status: res.status,
    code: code === null ? undefined : Number(code),
    text: await res.text(),
    headers: res.headers,
  }
}

/** The query as the body, answered as JSONEachRow rows. */
export async function rows(s: TestSteward, query: string, url: Record<string, string> = {}) {
  const a = await ch(s, { body: query, url: { default_format: 'JSONEachRow', ...url } })
  if (a.status !== 200) throw new Error(`${a.status}: ${a.text}`)
  return a.text
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, unknown>)
}
