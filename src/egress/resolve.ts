// Turning a URL's host into the addresses a connection may use: resolved once, every address
// checked, the request then pinned to exactly these (request.ts), so a second DNS answer cannot
// swap in another address (no rebinding window).
//
// Guarantees: a destination is refused when any address its host resolves to is refused and not
// allowlisted (an answer that mixes a public and a private address is refused whole); a host
// allowlisted by name passes whatever it resolves to. A refusal never opens a connection.
import { promises as dns } from 'node:dns'
import type { Logger } from '../log.ts'
import { classifyAddress, isIpAddress, reasonText } from './addresses.ts'
import { type Allowlist, normalizeHost } from './allowlist.ts'
import { EgressError } from './errors.ts'

export interface ResolvedAddress {
  address: string
  family: 4 | 6
}

/** Where one request may connect: its host as the URL names it, its port, the checked addresses. */
export interface Destination {
  origin: string
  /** The host as given to the connection (no brackets): a name, or an address literal. */
  host: string
  port: number
  addresses: ResolvedAddress[]
}

export interface ResolveOptions {
  allowlist: Allowlist
  /** DNS servers to ask (empty: the system resolver, as `getaddrinfo` sees it). */
  resolvers: readonly string[]
  signal: AbortSignal
  log?: Logger
}

const notFound = new Set(['ENODATA', 'ENOTFOUND', 'NXDOMAIN', 'ENONAME'])

async function viaServers(host: string, servers: readonly string[], signal: AbortSignal) {
  // One resolver per look-up: cancel() stops every query of a resolver, and others may be in flight.
  const resolver = new dns.Resolver({ timeout: 2_000, tries: 2 })
  resolver.setServers([...servers])
  const cancel = () => resolver.cancel()
  signal.addEventListener('abort', cancel, { once: true })
  try {
    const [a, aaaa] = await Promise.allSettled([resolver.resolve4(host), resolver.resolve6(host)])
    const out: ResolvedAddress[] = []
    for (const [r, family] of [
      [a, 4],
      [aaaa, 6],
    ] as const) {
      if (r.status === 'fulfilled') out.push(...r.value.map((address) => ({ address, family })))
      else if (!notFound.has((r.reason as NodeJS.ErrnoException).code ?? '')) throw r.reason
    }
    if (out.length === 0) throw Object.assign(new Error(`queryA ENOTFOUND ${host}`), { code: 'ENOTFOUND' })
    return out
  } finally {
    signal.removeEventListener('abort', cancel)
  }
}

async function lookupAll(host: string, o: ResolveOptions): Promise<ResolvedAddress[]> {
  try {
    if (o.resolvers.length) return await viaServers(host, o.resolvers, o.signal)
    const found = await dns.lookup(host, { all: true, verbatim: true })
    return found.map((a) => ({ address: a.address, family: a.family === 6 ? 6 : 4 }))
  } catch (err) {
    if (o.signal.aborted) throw o.signal.reason
    const code = (err as NodeJS.ErrnoException).code ?? (err as Error).message
    throw new EgressError('egress_network', `cannot resolve ${host}: ${code}`, { host })
  }
}

/** Resolves and checks the destination of `url`; throws `egress_refused` before any connection. */
export async function resolveDestination(url: URL, o: ResolveOptions): Promise<Destination> {
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1')
  const port = url.port ? Number(url.port) : url.protocol === 'https:' ? 443 : 80
  const literal = isIpAddress(host)
  const allowedByName = !literal && o.allowlist.allowsHost(host, port)
  const addresses: ResolvedAddress[] = literal
    ? [{ address: host, family: host.includes(':') ? 6 : 4 }]
    : await lookupAll(host, o)
  if (!allowedByName) {
    for (const { address } of addresses) {
      const verdict = classifyAddress(address)
      if (!verdict.refused || o.allowlist.allowsAddress(address, port)) continue
      const what = `${reasonText[verdict.refused]}${verdict.via ? ` (${verdict.via})` : ''}`
      o.log?.warn('egress refused', { host: normalizeHost(host), port, address, reason: verdict.refused })
      // A literal address is the caller's own; a name's addresses stay in the log, not in the message.
      throw new EgressError(
        'egress_refused',
        literal ? `${url.origin} is ${what}` : `${url.origin} resolves to ${what}`,
        { reason: verdict.refused, host: normalizeHost(host), address },
      )
    }
  }
  return { origin: url.origin, host, port, addresses }
}
