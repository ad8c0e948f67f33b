// One outbound HTTP request under the egress policy, on node:http/https.
//
// Guarantees:
// - the connection goes to an address that was checked: node's `lookup` hook hands the socket the
//   addresses resolve.ts checked, and nothing else (an address literal was checked as written);
// - redirects are followed by hand, at most `maxRedirects`, each hop resolved and checked anew;
//   303 (and 301/302 after a POST) continue as GET without a body, 307/308 keep method and body;
//   on a hop to another origin only the headers in `crossOriginHeaders` (and the caller's
//   `keepOnCrossOrigin`) go along, so credentials set for one origin never reach another;
// - `timeoutMs` bounds the whole request (resolution, connection, every hop, the reply); the
//   caller's `signal` aborts it too and is rethrown as is;
// - the reply is read as a stream: at most `maxResponseBytes` are kept, and the connection is
//   closed as soon as one more byte arrives (the reply is then marked truncated);
// - framing and hop-by-hop headers (host, content-length, transfer-encoding, connection, ...) are
//   never taken from the caller.
import http, { type IncomingHttpHeaders } from 'node:http'
import https from 'node:https'
import type { LookupFunction } from 'node:net'
import type { Allowlist } from './allowlist.ts'
import { EgressError } from './errors.ts'
import { type Destination, type ResolveOptions, resolveDestination } from './resolve.ts'

export interface EgressRequestOptions {
  /** Default GET. */
  method?: string
  headers?: Record<string, string>
  body?: string | Uint8Array
  /** Aborts the request; its reason is thrown as is. */
  signal?: AbortSignal
  /** Default: the policy's timeoutMs. */
  timeoutMs?: number
  /** Default: the policy's maxResponseBytes; 0 reads no body at all. */
  maxResponseBytes?: number
  /** Default true; false returns a 3xx reply as it is. */
  followRedirects?: boolean
  /** Header names (lower case) carried on a redirect to another origin, besides `crossOriginHeaders`. */
  keepOnCrossOrigin?: readonly string[]
}

export interface EgressResponse {
  status: number
  headers: IncomingHttpHeaders
  body: Buffer
  /** The reply had more than maxResponseBytes; `body` holds the first maxResponseBytes. */
  truncated: boolean
  /** The URL that answered (after redirects). */
  url: string
  redirects: number
}

export interface RequestContext {
  allowlist: Allowlist
  resolvers: readonly string[]
  timeoutMs: number
  maxResponseBytes: number
  maxRedirects: number
  log?: ResolveOptions['log']
}

/** Headers that describe the content, never a credential: kept on a cross-origin redirect. */
export const crossOriginHeaders: readonly string[] = [
  'accept',
  'accept-language',
  'content-type',
  'user-agent',
]

const framing = new Set([
  'host',
  'content-length',
  'transfer-encoding',
  'connection',
  'keep-alive',
  'upgrade',
  'te',
  'trailer',
  'expect',
  'proxy-connection',
])
/** Headers a caller may not set: the client owns framing and hop-by-hop headers. */
export const isForbiddenRequestHeader = (name: string): boolean => {
  const n = name.toLowerCase()
  return framing.has(n) || n.startsWith('proxy-')
}

function parseUrl(text: string, what: string, code: 'egress_bad_request' | 'egress_redirect'): URL {
  let url: URL
  try {
    url = new URL(text)
  } catch {
    throw new EgressError(code, `${what} is not a URL`)
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new EgressError(code, `${what} is not an http(s) URL (${url.protocol})`)
  if (url.username || url.password) throw new EgressError(code, `${what} carries credentials`)
  return url
}

/** A lookup that answers with the checked addresses only (node calls it for host names). */
function pinnedLookup(dest: Destination): LookupFunction {
  return (hostname, options, callback) => {
    const family = options.family === 4 || options.family === 6 ? options.family : 0
    const list = dest.addresses.filter((a) => !family || a.family === family)
    if (hostname !== dest.host || list.length === 0) {
      const err = Object.assign(new Error(`no checked address for ${hostname}`), { code: 'ENOTFOUND' })
      return callback(err, '', 0)
    }
    if (options.all) return callback(null, list)
    return callback(null, list[0]!.address, list[0]!.family)
  }
}

const isRedirect = (status: number) => [301, 302, 303, 307, 308].includes(status)

interface Hop {
  status: number
  headers: IncomingHttpHeaders
  body: Buffer
  truncated: boolean
}

function send(
  url: URL,
  dest: Destination,
  o: {
    method: string
    headers: Record<string, string>
    body?: Uint8Array
    maxBytes: number
    follow: boolean
  },
  signal: AbortSignal,
): Promise<Hop> {
  return new Promise<Hop>((resolve, reject) => {
    let settled = false
    const finish = (fn: () => void) => {
      if (settled) return
      settled = true
      signal.removeEventListener('abort', onAbort)
      fn()
    }
    const network = (err: Error) =>
      err instanceof EgressError
        ? err
        : new EgressError(
            'egress_network',
            `${dest.origin}: ${(err as NodeJS.ErrnoException).code ?? err.message}`,
            { host: dest.host },
          )
    let req: http.ClientRequest
    try {
      req = (url.protocol === 'https:' ? https : http).request({
        protocol: url.protocol,
        hostname: dest.host,
        port: dest.port,
        path: `${url.pathname}${url.search}`,
        method: o.method,
        headers: o.body ? { ...o.headers, 'content-length': String(o.body.byteLength) } : o.headers,
        // No pooling: a socket serves one checked request and closes.
        agent: false,
        lookup: pinnedLookup(dest),
      })
    } catch (err) {
      // Node refuses a bad method or header value before sending anything.
      return reject(new EgressError('egress_bad_request', (err as Error).message))
    }
    const onAbort = () => {
      req.destroy()
      finish(() => reject(signal.reason))
    }
    if (signal.aborted) return onAbort()
    signal.addEventListener('abort', onAbort, { once: true })
    req.on('error', (err) => finish(() => reject(network(err))))
    req.on('response', (res) => {
      const status = res.statusCode ?? 0
      const head = { status, headers: res.headers }
      if (o.maxBytes === 0 || (o.follow && isRedirect(status))) {
        res.destroy()
        req.destroy()
        return finish(() => resolve({ ...head, body: Buffer.alloc(0), truncated: false }))
      }
      const chunks: Buffer[] = []
      let size = 0
      res.on('data', (chunk: Buffer) => {
        if (settled) return
        if (size + chunk.length <= o.maxBytes) {
          chunks.push(chunk)
          size += chunk.length
          return
        }
        chunks.push(chunk.subarray(0, o.maxBytes - size))
        res.destroy()
        req.destroy()
        finish(() => resolve({ ...head, body: Buffer.concat(chunks, o.maxBytes), truncated: true }))
      })
      res.on('end', () =>
        finish(() => resolve({ ...head, body: Buffer.concat(chunks, size), truncated: false })),
      )
      res.on('error', (err) => finish(() => reject(network(err))))
      res.on('close', () =>
        finish(() =>
          reject(
            new EgressError('egress_network', `${dest.origin}: connection closed before the reply ended`),
          ),
        ),
      )
    })
    req.end(o.body)
  })
}

/** Sends one request under the policy (see the guarantees above). */
export async function egressRequest(
  ctx: RequestContext,
  target: string,
  options: EgressRequestOptions = {},
): Promise<EgressResponse> {
  const timeoutMs = options.timeoutMs ?? ctx.timeoutMs
  const maxBytes = options.maxResponseBytes ?? ctx.maxResponseBytes
  const follow = options.followRedirects ?? true
  const keep = new Set([...crossOriginHeaders, ...(options.keepOnCrossOrigin ?? [])])
  const ac = new AbortController()
  // Resolution cannot always be cancelled (getaddrinfo): the request stops waiting for it instead.
  const aborted = new Promise<never>((_, reject) =>
    ac.signal.addEventListener('abort', () => reject(ac.signal.reason), { once: true }),
  )
  aborted.catch(() => {})
  const timer = setTimeout(
    () => ac.abort(new EgressError('egress_timeout', `no complete reply within ${timeoutMs} ms`)),
    timeoutMs,
  )
  const onCallerAbort = () => ac.abort(options.signal?.reason)
  if (options.signal?.aborted) onCallerAbort()
  options.signal?.addEventListener('abort', onCallerAbort, { once: true })
  const resolveOptions: ResolveOptions = {
    allowlist: ctx.allowlist,
    resolvers: ctx.resolvers,
    signal: ac.signal,
    log: ctx.log,
  }
  try {
    let url = parseUrl(target, 'the URL', 'egress_bad_request')
    let method = (options.method ?? 'GET').toUpperCase()
    let body = typeof options.body === 'string' ? Buffer.from(options.body) : options.body
    let headers: Record<string, string> = {}
    for (const [k, v] of Object.entries(options.headers ?? {}))
      if (!isForbiddenRequestHeader(k)) headers[k.toLowerCase()] = v
    for (let redirects = 0; ; redirects++) {
      const dest = await Promise.race([resolveDestination(url, resolveOptions), aborted])
      const hop = await send(url, dest, { method, headers, body, maxBytes, follow }, ac.signal)
      const location = hop.headers.location
      if (!follow || !isRedirect(hop.status) || !location) return { ...hop, url: url.toString(), redirects }
      if (redirects >= ctx.maxRedirects)
        throw new EgressError(
          'egress_redirect',
          `more than ${ctx.maxRedirects} redirects (last from ${url.origin})`,
        )
      let next: URL
      try {
        next = new URL(location, url)
      } catch {
        throw new EgressError('egress_redirect', `${url.origin} redirected to an invalid URL`)
      }
      next = parseUrl(next.toString(), `the redirect from ${url.origin}`, 'egress_redirect')
      if (hop.status === 303 ? method !== 'HEAD' : hop.status <= 302 && method === 'POST') {
        method = 'GET'
        body = undefined
        delete headers['content-type']
      }
      if (next.origin !== url.origin)
        headers = Object.fromEntries(Object.entries(headers).filter(([k]) => keep.has(k)))
      url = next
    }
  } catch (err) {
    if (ac.signal.aborted) throw ac.signal.reason
    throw err
  } finally {
    clearTimeout(timer)
    options.signal?.removeEventListener('abort', onCallerAbort)
  }
}
