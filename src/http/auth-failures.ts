// Rate limit of failed authentications per client address: each 401 takes a token from the
// address's bucket (`burst` tokens, refilled at `perMinute`); once it is empty, that address's
// requests with a token Steward would have to look up get 429 with Retry-After instead of a
// database look-up. The admin token and tokens known valid without a look-up (the token cache)
// still pass, so a busy client behind the same address as an attacker keeps working.
//
// The client address is the socket's peer. X-Forwarded-For is read only when that peer is one of
// `trustedProxies` (addresses or CIDRs): then the address is the last one in the header that is
// not a trusted proxy. Requests without a socket (in-process calls) have no address and no limit.
import type { Context } from 'hono'
import ipaddr from 'ipaddr.js'
import { LRUCache } from 'lru-cache'

export interface AuthFailureLimits {
  /** Failed authentications an address may make at once before it is limited. */
  burst: number
  /** Failed authentications per minute an address regains. */
  perMinute: number
  /** Proxies (addresses or CIDRs) whose X-Forwarded-For names the client. */
  trustedProxies: string[]
}

/** Most addresses tracked at once; the least recently failing one is forgotten first. */
const MAX_ADDRESSES = 10_000

type Range = [ipaddr.IPv4 | ipaddr.IPv6, number]

const parse = (s: string) => {
  try {
    return ipaddr.process(s.trim())
  } catch {
    return undefined
  }
}

function ranges(entries: string[]): Range[] {
  return entries.map((e) => {
    if (e.includes('/')) return ipaddr.parseCIDR(e)
    const a = ipaddr.process(e)
    return [a, a.kind() === 'ipv4' ? 32 : 128]
  })
}

const within = (a: ipaddr.IPv4 | ipaddr.IPv6, list: Range[]) =>
  list.some(([net, bits]) => a.kind() === net.kind() && a.match([net, bits] as never))

/** The client's address: the socket's peer, or what a trusted proxy says it forwarded for. */
export function clientAddress(c: Context, trusted: Range[]): string | undefined {
  const env = c.env as { incoming?: { socket?: { remoteAddress?: string } } } | undefined
  const peer = env?.incoming?.socket?.remoteAddress
  const address = peer ? parse(peer) : undefined
  if (!address) return peer
  if (trusted.length === 0 || !within(address, trusted)) return address.toString()
  const hops = (c.req.header('x-forwarded-for') ?? '').split(',').map(parse)
  for (let i = hops.length - 1; i >= 0; i--) {
    const hop = hops[i]
    if (!hop) break // a malformed entry: trust nothing to its left
    if (!within(hop, trusted)) return hop.toString()
  }
  return address.toString()
}

export class AuthFailureLimiter {
  private readonly buckets = new LRUCache<string, { tokens: number; at: number }>({ max: MAX_ADDRESSES })
  readonly trusted: Range[]

  constructor(private readonly limits: AuthFailureLimits) {
    this.trusted = ranges(limits.trustedProxies)
  }

  private level(address: string, now: number): { tokens: number; at: number } {
    const b = this.buckets.get(address) ?? { tokens: this.limits.burst, at: now }
    b.tokens = Math.min(this.limits.burst, b.tokens + ((now - b.at) / 60_000) * this.limits.perMinute)
    b.at = now
    return b
  }

  /** Seconds until `address` may fail again (0: it may now). */
  retryAfter(address: string | undefined, now = Date.now()): number {
    if (address === undefined || !this.buckets.has(address)) return 0
    const b = this.level(address, now)
    return b.tokens >= 1 ? 0 : Math.ceil(((1 - b.tokens) / this.limits.perMinute) * 60)
  }

  /** Counts a failed authentication from `address`. */
  failed(address: string | undefined, now = Date.now()): void {
    if (address === undefined) return
    const b = this.level(address, now)
    b.tokens = Math.max(0, b.tokens - 1)
    this.buckets.set(address, b)
  }
}
