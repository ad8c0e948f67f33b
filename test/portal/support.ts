// Shared by the portal's HTTP tests: requests as a browser makes them (forms, cookies, Origin),
// straight into the app (no socket), and reading the session cookie and CSRF token back.
import { expect } from 'vitest'
import type { Steward } from '../../src/server/index.ts'

export const ORIGIN = 'http://steward.test'

export interface Sent {
  res: Response
  text: string
}

/** A request to the portal: `cookie` is the session's, `form` is sent url-encoded with our Origin. */
export async function portal(
  s: Steward,
  method: string,
  path: string,
  opts: {
    cookie?: string
    form?: Record<string, string>
    headers?: Record<string, string>
    base?: string
  } = {},
): Promise<Sent> {
  const headers: Record<string, string> = { ...(opts.cookie ? { cookie: opts.cookie } : {}) }
  let body: string | undefined
  if (opts.form) {
    body = new URLSearchParams(opts.form).toString()
    headers['content-type'] = 'application/x-www-form-urlencoded'
    headers.origin = opts.base ?? ORIGIN
  }
  Object.assign(headers, opts.headers)
  for (const [k, v] of Object.entries(headers)) if (v === '') delete headers[k]
  const res = await s.fetch(new Request(`${opts.base ?? ORIGIN}${path}`, { method, headers, body }))
  return { res, text: await res.text() }
}

/** The `name=value` part of the session cookie a response sets (undefined: none set). */
export function sessionCookie(res: Response): string | undefined {
  const set = res.headers.getSetCookie().find((c) => c.startsWith('steward_portal='))
  return set?.split(';')[0]
}

/** Signs in with `token` and returns the session cookie. */
export async function signIn(s: Steward, token: string): Promise<string> {
  const { res, text } = await portal(s, 'POST', '/portal/login', { form: { token } })
  expect(res.status, text).toBe(303)
  expect(res.headers.get('location')).toBe('/portal')
  const cookie = sessionCookie(res)
  expect(cookie).toBeDefined()
  return cookie!
}

/** The CSRF token in the dashboard's forms. */
export function csrfOf(html: string): string {
  const m = /name="csrf" value="([^"]+)"/.exec(html)
  expect(m, 'a form with a CSRF token').not.toBeNull()
  return m![1]!
}
