// A DNS server stand-in on loopback (UDP, RFC 1035 messages encoded by dns-packet): answers A and
// AAAA questions from a table, NXDOMAIN for names it does not know. Steward's egress policy talks
// to it through node's own resolver (`egress.resolvers`), as it would to a real DNS server.
import { createSocket } from 'node:dgram'
import type { AddressInfo } from 'node:net'
import dnsPacket from 'dns-packet'

export interface DnsStandIn {
  /** `127.0.0.1:<port>`, for `egress.resolvers`. */
  server: string
  /** Names asked, in order (`A example.test`). */
  asked: string[]
  close(): Promise<void>
}

const NXDOMAIN = 3

/** Addresses of a name (IPv4 and IPv6 mixed), or a function asked on every question (rebinding). */
export type DnsRecords = Record<string, string[] | ((type: 'A' | 'AAAA') => string[])>

/** Serves `records` (names in lower case). */
export async function startDnsStandIn(records: DnsRecords): Promise<DnsStandIn> {
  const socket = createSocket('udp4')
  const asked: string[] = []
  socket.on('message', (msg, peer) => {
    const query = dnsPacket.decode(msg)
    const q = query.questions?.[0]
    if (!q) return
    asked.push(`${q.type} ${q.name}`)
    const entry = records[q.name.toLowerCase()]
    const type = q.type === 'AAAA' ? 'AAAA' : 'A'
    const known = typeof entry === 'function' ? entry(type) : entry
    const data = (known ?? []).filter((a) => a.includes(':') === (type === 'AAAA'))
    const reply = dnsPacket.encode({
      type: 'response',
      id: query.id,
      flags: dnsPacket.RECURSION_DESIRED | dnsPacket.RECURSION_AVAILABLE | (known ? 0 : NXDOMAIN),
      questions: [q],
      answers:
        q.type === 'A' || q.type === 'AAAA'
          ? data.map((address) => ({ type: q.type as 'A' | 'AAAA', name: q.name, ttl: 60, data: address }))
          : [],
    })
    socket.send(reply, peer.port, peer.address)
  })
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve))
  return {
    server: `127.0.0.1:${(socket.address() as AddressInfo).port}`,
    asked,
    close: () => new Promise<void>((resolve) => socket.close(() => resolve())),
  }
}
