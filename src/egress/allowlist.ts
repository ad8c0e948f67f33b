// The operator's allowlist: internal destinations the egress policy lets through anyway.
//
// An entry is one of:
// - `hooks.internal.example`, `*.svc.cluster.local`: a host name (or every name under a suffix),
//   matched against the URL's host before resolution; whatever it resolves to is allowed;
// - `10.20.0.0/16`, `fd12:3456::/48`: a CIDR, matched against every address the host resolves to;
// - `10.1.2.3`, `::1`, `[::1]`: one address (a /32 or /128);
// and a host name or a single address may name a port: `hooks.internal:8443`, `127.0.0.1:8080`,
// `[::1]:8080` (without one, every port). Entries are validated by the config schema.
import ipaddr from 'ipaddr.js'
import { parseAddress } from './addresses.ts'

type IP = ipaddr.IPv4 | ipaddr.IPv6

type Entry =
  | { kind: 'host'; host: string; port?: number }
  | { kind: 'suffix'; suffix: string; port?: number }
  | { kind: 'range'; range: [IP, number]; port?: number }

const label = '[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?'
const hostName = new RegExp(`^${label}(?:\\.${label})*$`)

/** A URL host in the form entries are compared with: lower case, no trailing dot, no brackets. */
export const normalizeHost = (host: string): string =>
  host
    .replace(/^\[(.*)\]$/, '$1')
    .replace(/\.$/, '')
    .toLowerCase()

function splitPort(text: string): { rest: string; port?: number } | string {
  const m = /^(.*):(\d{1,5})$/.exec(text)
  if (!m) return { rest: text }
  const port = Number(m[2])
  if (port < 1 || port > 65535) return `port ${m[2]} is out of range`
  return { rest: m[1]!, port }
}

const notAnEntry = (raw: string) =>
  `"${raw}" is not a host name, an address or a CIDR (hooks.internal, *.svc.local, 10.1.2.3:8080, 10.0.0.0/8)`

const singleAddress = (a: IP): [IP, number] => [a, a.kind() === 'ipv4' ? 32 : 128]

/** Parses one allowlist entry, or returns why it is not one. */
export function parseAllowEntry(raw: string): Entry | string {
  const text = raw.trim().toLowerCase()
  if (text.includes('/')) {
    if (!(ipaddr.IPv4.isValidCIDRFourPartDecimal(text) || ipaddr.IPv6.isValidCIDR(text)))
      return notAnEntry(raw)
    const [net, bits] = ipaddr.parseCIDR(text)
    return {
      kind: 'range',
      range:
        net.kind() === 'ipv6' && (net as ipaddr.IPv6).isIPv4MappedAddress() && bits >= 96
          ? [(net as ipaddr.IPv6).toIPv4Address(), bits - 96]
          : [net, bits],
    }
  }
  // A bare IPv6 address carries no port (its colons would be ambiguous): `[addr]:port` does.
  if (!text.startsWith('[') && ipaddr.IPv6.isValid(text))
    return { kind: 'range', range: singleAddress(parseAddress(text)) }
  const split = splitPort(text)
  if (typeof split === 'string') return `"${raw}": ${split}`
  const { rest, port } = split
  const bracketed = /^\[(.+)\]$/.exec(rest)
  if (bracketed) {
    if (!ipaddr.IPv6.isValid(bracketed[1]!)) return `"${raw}" is not an IPv6 address`
    return { kind: 'range', range: singleAddress(parseAddress(bracketed[1]!)), port }
  }
  // Only dotted-quad IPv4: other spellings (2130706433) are refused here to keep the list legible.
  if (ipaddr.IPv4.isValidFourPartDecimal(rest))
    return { kind: 'range', range: singleAddress(parseAddress(rest)), port }
  const host = rest.replace(/\.$/, '')
  if (host.startsWith('*.') && hostName.test(host.slice(2)) && host.length <= 255)
    return { kind: 'suffix', suffix: host.slice(1), port }
  // A name made of numbers is an IPv4 spelling a URL would rewrite (0x7f.1 is 127.0.0.1): refused.
  if (hostName.test(host) && host.length <= 253 && !ipaddr.IPv4.isValid(host))
    return { kind: 'host', host, port }
  return notAnEntry(raw)
}

export class Allowlist {
  private readonly entries: Entry[]

  constructor(list: readonly string[]) {
    this.entries = list.map((raw) => {
      const e = parseAllowEntry(raw)
      if (typeof e === 'string') throw new Error(`egress allowlist: ${e}`)
      return e
    })
  }

  get size(): number {
    return this.entries.length
  }

  /** True when the URL host (before resolution) is allowlisted by name for this port. */
  allowsHost(host: string, port: number): boolean {
    const h = normalizeHost(host)
    return this.entries.some(
      (e) =>
        (e.port === undefined || e.port === port) &&
        ((e.kind === 'host' && e.host === h) || (e.kind === 'suffix' && h.endsWith(e.suffix))),
    )
  }

  /** True when an address the host resolved to is allowlisted for this port. */
  allowsAddress(address: string, port: number): boolean {
    const a = parseAddress(address)
    return this.entries.some(
      (e) =>
        e.kind === 'range' &&
        (e.port === undefined || e.port === port) &&
        a.kind() === e.range[0].kind() &&
        a.match(e.range),
    )
  }
}
