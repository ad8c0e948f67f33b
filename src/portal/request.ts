// What the portal believes about a request: the client's address (the rate limit's key, as the
// API's failed-authentication limit reads it), whether it is https (the cookie's Secure attribute,
// with `portal.secureCookies`), and whether a POST comes from the portal's own pages (the Origin
// check).
//
// Guarantees: `X-Forwarded-For`, `X-Forwarded-Proto` and `X-Forwarded-Host` are read only when the
// peer (the TCP connection's address) is one of `portal.trustedProxies`; from anyone else they are
// ignored, so a client cannot choose its rate-limit key or claim https. A POST whose `Origin` is
// not the portal's own, or (without `Origin`) whose `Sec-Fetch-Site` says another site sent it, is
// refused.
import type { Context } from 'hono'
import { clientAddress, fromTrustedProxy, proxyRanges } from '../http/auth-failures.ts'
import type { PortalConfig } from './config.ts'

export interface RequestFacts {
  /** The client's address as far as trusted proxies say (the peer's own, else 'unknown'). */
  clientAddress(c: Context): string
  /** Whether the session cookie gets the Secure attribute (`portal.secureCookies`). */
  secureCookie(c: Context): boolean
  /** Whether a state-changing request may be accepted from where it says it comes from. */
  sameOrigin(c: Context): boolean
}

export function requestFacts(cfg: PortalConfig, publicUrl: string): RequestFacts {
  const trusted = proxyRanges(cfg.trustedProxies)
  const viaTrustedProxy = (c: Context) => fromTrustedProxy(c, trusted)
  const publicOrigin = new URL(publicUrl).origin
  /** The first value of a header a trusted proxy set (the proxy nearest the client wrote it first). */
  const forwarded = (c: Context, name: string) =>
    viaTrustedProxy(c) ? c.req.header(name)?.split(',')[0]?.trim() || undefined : undefined
  const isHttps = (c: Context) =>
    new URL(c.req.url).protocol === 'https:' || forwarded(c, 'x-forwarded-proto')?.toLowerCase() === 'https'

  return {
    // In-process calls have no socket, hence no address: they share one key.
    clientAddress: (c) => clientAddress(c, trusted) ?? 'unknown',
    secureCookie(c) {
      if (cfg.secureCookies !== 'auto') return cfg.secureCookies === 'always'
      return isHttps(c) || publicOrigin.startsWith('https:')
    },
    sameOrigin(c) {
      const origin = c.req.header('origin')
      if (origin !== undefined) {
        const own = new URL(c.req.url)
        const host = forwarded(c, 'x-forwarded-host') ?? own.host
        const scheme = isHttps(c) ? 'https:' : own.protocol
        return origin === `${scheme}//${host}` || origin === publicOrigin
      }
      // Without Origin (older browsers, non-browser clients): a browser's fetch metadata must not
      // say that another site sent the request.
      const site = c.req.header('sec-fetch-site')
      return site === undefined || site === 'same-origin'
    },
  }
}
