// Which IP addresses an outbound request may go to: the public internet, nothing else.
//
// Guarantees: an address is refused unless it is global unicast. IPv4: loopback (127/8),
// unspecified (0/8), private (RFC 1918), link-local (169.254/16), carrier-grade NAT (100.64/10),
// multicast, broadcast and the reserved/documentation/benchmarking ranges are refused. IPv6: only
// 2000::/3 may pass, minus its special ranges (documentation, Teredo, ORCHID, ...); so ::1, ::,
// fe80::/10, fc00::/7 (unique-local), ff00::/8 and the deprecated IPv4-compatible ::a.b.c.d are
// refused. An IPv4 address embedded in IPv6 (IPv4-mapped ::ffff:a.b.c.d, SIIT ::ffff:0:a.b.c.d,
// NAT64 64:ff9b::/96, 6to4 2002::/16) is judged as that IPv4 address; the local-use NAT64 prefix
// 64:ff9b:1::/48 is private. Cloud metadata endpoints are refused by name of their own, also those
// that sit in public space (Azure's 168.63.129.16). Parsing and ranges come from ipaddr.js, which
// also reads the decimal, octal and hex IPv4 spellings (2130706433, 0177.0.0.1, 0x7f.1).
import ipaddr from 'ipaddr.js'

type IP = ipaddr.IPv4 | ipaddr.IPv6

export type RefusalReason =
  | 'loopback'
  | 'unspecified'
  | 'private'
  | 'link-local'
  | 'carrier-grade-nat'
  | 'unique-local'
  | 'site-local'
  | 'multicast'
  | 'broadcast'
  | 'reserved'
  | 'cloud-metadata'

export const reasonText: Record<RefusalReason, string> = {
  loopback: 'a loopback address',
  unspecified: 'an unspecified address',
  private: 'a private address',
  'link-local': 'a link-local address',
  'carrier-grade-nat': 'a carrier-grade NAT address',
  'unique-local': 'a unique-local address',
  'site-local': 'a site-local address',
  multicast: 'a multicast address',
  broadcast: 'a broadcast address',
  reserved: 'a reserved address',
  'cloud-metadata': 'a cloud metadata address',
}

const cidrs = (list: string[]) => list.map((c) => ipaddr.parseCIDR(c))

/** Instance metadata, credentials and platform endpoints of the clouds Steward may run on. */
const cloudMetadata = cidrs([
  '169.254.169.254/32', // AWS, GCP, Azure, OpenStack, DigitalOcean, ... instance metadata
  '169.254.169.123/32', // AWS time sync
  '169.254.169.253/32', // AWS DNS
  '169.254.170.2/32', // AWS ECS task metadata and credentials
  '168.63.129.16/32', // Azure WireServer (public address space)
  '100.100.100.200/32', // Alibaba Cloud metadata
  '192.0.0.192/32', // Oracle Cloud metadata
  'fd00:ec2::/32', // AWS IPv6 metadata, DNS and time sync (fd00:ec2::254, ::253, ::123)
])

const ipv6GlobalUnicast = ipaddr.parseCIDR('2000::/3')
const nat64WellKnown = ipaddr.parseCIDR('64:ff9b::/96')

const ipv4Reasons: Partial<Record<string, RefusalReason>> = {
  unspecified: 'unspecified',
  broadcast: 'broadcast',
  multicast: 'multicast',
  linkLocal: 'link-local',
  loopback: 'loopback',
  carrierGradeNat: 'carrier-grade-nat',
  private: 'private',
}
const ipv6Reasons: Partial<Record<string, RefusalReason>> = {
  unspecified: 'unspecified',
  linkLocal: 'link-local',
  multicast: 'multicast',
  loopback: 'loopback',
  uniqueLocal: 'unique-local',
  deprecatedSiteLocal: 'site-local',
}

const inRange = (addr: IP, [net, bits]: [IP, number]) => addr.kind() === net.kind() && addr.match(net, bits)

const v4 = (hi: number, lo: number) => new ipaddr.IPv4([hi >> 8, hi & 0xff, lo >> 8, lo & 0xff])

/** The IPv4 address an IPv6 address stands for, when it is one of the embedding forms. */
function embeddedIPv4(a: ipaddr.IPv6): { v4: ipaddr.IPv4; form: string } | undefined {
  const p = a.parts as [number, number, number, number, number, number, number, number]
  const range = a.range()
  if (range === 'ipv4Mapped') return { v4: v4(p[6], p[7]), form: 'IPv4-mapped' }
  if (range === 'rfc6145') return { v4: v4(p[6], p[7]), form: 'IPv4-translated' }
  if (inRange(a, nat64WellKnown)) return { v4: v4(p[6], p[7]), form: 'NAT64' }
  if (range === '6to4') return { v4: v4(p[1], p[2]), form: '6to4' }
  return undefined
}

export interface AddressVerdict {
  /** The address in its canonical form (what the connection goes to). */
  address: string
  family: 4 | 6
  /** Set when the address is refused. */
  refused?: RefusalReason
  /** The IPv6 form an IPv4 address was embedded in (IPv4-mapped, NAT64, ...). */
  via?: string
}

function judge(addr: IP): Pick<AddressVerdict, 'refused' | 'via'> {
  if (cloudMetadata.some((r) => inRange(addr, r))) return { refused: 'cloud-metadata' }
  if (addr.kind() === 'ipv4') {
    const range = addr.range()
    return range === 'unicast' ? {} : { refused: ipv4Reasons[range] ?? 'reserved' }
  }
  const a = addr as ipaddr.IPv6
  const embedded = embeddedIPv4(a)
  if (embedded) {
    const inner = judge(embedded.v4)
    return inner.refused ? { refused: inner.refused, via: embedded.form } : {}
  }
  const range = a.range()
  if (range !== 'unicast')
    return { refused: ipv6Reasons[range] ?? (range === 'rfc6052' ? 'private' : 'reserved') }
  return inRange(a, ipv6GlobalUnicast) ? {} : { refused: 'reserved' }
}

/** True when `text` is an IP address in any spelling ipaddr.js reads (a host name is not). */
export const isIpAddress = (text: string): boolean => ipaddr.isValid(text)

/** Parses an address (any spelling); an IPv4-mapped IPv6 address becomes its IPv4 address. */
export function parseAddress(text: string): IP {
  const a = ipaddr.parse(text)
  return a.kind() === 'ipv6' && (a as ipaddr.IPv6).isIPv4MappedAddress()
    ? (a as ipaddr.IPv6).toIPv4Address()
    : a
}

/** Judges one address; throws on text that is not an IP address. */
export function classifyAddress(text: string): AddressVerdict {
  const addr = ipaddr.parse(text)
  return {
    address: addr.toString(),
    family: addr.kind() === 'ipv4' ? 4 : 6,
    ...judge(addr),
  }
}
