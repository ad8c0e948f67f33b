// What the portal believes about a request: the client's address (the rate limit's key), whether
// it is https (the cookie's Secure attribute, with \`portal.secureCookies\`), and whether a POST comes from the portal's own pages
// (the Origin check).
//
// Guarantees: `X-Forwarded-For` and `X-Forwarded-Proto` are read only when the peer (the TCP
// connection's address) is one of `portal.trustedProxies`; from anyone else they are ignored, so a
// client cannot choose its rate-limit key or claim https. A POST whose `Origin` is not the
// portal's own, or (without `Origin`) whose `Sec-Fetch-Site` says another site sent it, is refused.
import type { Context } from 'hono'
import ipaddr from 'ipaddr.js'
import type { PortalConfig } from './config.ts'

type Range = [ipaddr.IPv4 | ipaddr.IPv6, number]

/** Parses an address, IPv4-mapped IPv6 as IPv4; undefined when it is not an address. */
function parse(text: string): ipaddr.IPv4 | ipaddr.IPv6 | undefined {
  const t = text.trim().replace(/^\[(.*)\]$/, '$1')
  return ipaddr.isValid(t) ? ipaddr.process(t) : undefined
}

export interface RequestFacts {
  /** The client's address as far as trusted proxies say (the peer's own, else 'unknown'). */
  clientAddress(c: Context): string
  /** Whether the session cookie gets the Secure attribute (`portal.secureCookies`). */
  secureCookie(c: Context): boolean
  /** Whether a state-changing request may be accepted from where it says it comes from. */
  sameOrigin(c: Context): boolean
}

export function requestFacts(cfg: PortalConfig, publicUrl: string): RequestFacts {
  const ranges: Range[] = cfg.trustedProxies.map((s) => {
    if (s.includes('/')) {
      const [net, bits] = ipaddr.parseCIDR(s)
      return net.kind() === 'ipv6' && (net as ipaddr.IPv6).isIPv4MappedAddress() && bits >= 96
        ? [(net as ipaddr.IPv6).toIPv4Address(), bits - 96]
        : [net, bits]
    }
    const a = ipaddr.process(s)
    return [a, a.kind() === 'ipv4' ? 32 : 128]
  })
  const trusted = (text: string | undefined) => {
    const a = text === undefined ? undefined : parse(text)
    return !!a && ranges.some(([net, bits]) => a.kind() === net.kind() && a.match(net, bits))
  }
  /** The TCP peer, when the request came through @hono/node-server (in-process calls have none). */
  const peer = (c: Context): string | undefined =>
    (c.env as { incoming?: { socket?: { remoteAddress?: string } } } | undefined)?.incoming?.socket
      ?.remoteAddress
  const viaTrustedProxy = (c: Context) => trusted(peer(c))
  const publicOrigin = new URL(publicUrl).origin

  const isHttps = (c: Context) => {
    if (new URL(c.req.url).protocol === 'https:') return true
    if (!viaTrustedProxy(c)) return false
    // The proxy nearest the client wrote the first value.
    return c.req.header('x-forwarded-proto')?.split(',')[0]?.trim().toLowerCase() === 'https'
  }

  return {
    clientAddress(c) {
      const p = peer(c)
      if (!p) return 'unknown'
      if (!trusted(p)) return parse(p)?.toString() ?? p
      // From the right: the first address no trusted proxy wrote is the client's.
      const hops = (c.req.header('x-forwarded-for') ?? '').split(',').map((h) => h.trim())
      for (let i = hops.length - 1; i >= 0; i--) {
        const hop = hops[i]!
        if (!hop) continue
        const a = parse(hop)
        if (!a) return 'unknown'
        if (!trusted(hop)) return a.toString()
      }
      return parse(p)?.toString() ?? p
    },
    secureCookie(c) {
      if (cfg.secureCookies !== 'auto') return cfg.secureCookies === 'always'
      return isHttps(c) || publicOrigin.startsWith('https:')
    },
    sameOrigin(c) {
      const origin = c.req.header('origin')
      if (origin !== undefined) {
        const own = new URL(c.req.url)
        const host =
          (viaTrustedProxy(c) && c.req.header('x-forwarded-host')?.split(',')[0]?.trim()) || own.host
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
