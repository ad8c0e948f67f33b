// The address classifier and the allowlist: which destinations the egress policy refuses, in every
// spelling an address can take, and which entries let an internal one through.
import { describe, expect, it } from 'vitest'
import { Allowlist, parseAllowEntry } from '../../src/egress/allowlist.ts'
import { classifyAddress, egressConfigSchema } from '../../src/egress/index.ts'

const refused = (address: string) => classifyAddress(address).refused

describe('public addresses', () => {
  it.each([
    '1.1.1.1',
    '8.8.8.8',
    '93.184.216.34',
    '172.15.255.255', // just below 172.16/12
    '172.32.0.0', // just above
    '100.63.255.255', // just below 100.64/10
    '100.128.0.0', // just above
    '169.253.255.255',
    '2606:4700:4700::1111',
    '2a00:1450:4001:82b::200e',
    '::ffff:8.8.8.8', // IPv4-mapped public
    '64:ff9b::808:808', // NAT64 of 8.8.8.8 (DNS64 answers look like this)
    '2002:808:808::1', // 6to4 of 8.8.8.8
  ])('%s passes', (address) => {
    expect(refused(address)).toBeUndefined()
  })
})

describe('IPv4 ranges that are refused', () => {
  it.each([
    ['127.0.0.1', 'loopback'],
    ['127.255.255.254', 'loopback'],
    ['0.0.0.0', 'unspecified'],
    ['0.1.2.3', 'unspecified'],
    ['10.0.0.1', 'private'],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['192.168.1.1', 'private'],
    ['169.254.0.1', 'link-local'],
    ['100.64.0.1', 'carrier-grade-nat'],
    ['100.127.255.255', 'carrier-grade-nat'],
    ['224.0.0.1', 'multicast'],
    ['239.255.255.250', 'multicast'],
    ['255.255.255.255', 'broadcast'],
    ['192.0.2.1', 'reserved'], // TEST-NET-1
    ['198.51.100.7', 'reserved'], // TEST-NET-2
    ['203.0.113.9', 'reserved'], // TEST-NET-3
    ['198.18.0.1', 'reserved'], // benchmarking
    ['240.0.0.1', 'reserved'],
    ['192.0.0.8', 'reserved'],
  ])('%s is %s', (address, reason) => {
    expect(refused(address)).toBe(reason)
  })
})

describe('IPv6 ranges that are refused', () => {
  it.each([
    ['::1', 'loopback'],
    ['0:0:0:0:0:0:0:1', 'loopback'],
    ['::', 'unspecified'],
    ['fe80::1', 'link-local'],
    ['fc00::1', 'unique-local'],
    ['fd12:3456:789a::1', 'unique-local'],
    ['fec0::1', 'site-local'],
    ['ff02::1', 'multicast'],
    ['2001:db8::1', 'reserved'], // documentation
    ['3fff::1', 'reserved'], // documentation (RFC 9637)
    ['2001::1', 'reserved'], // Teredo
    ['100::1', 'reserved'], // discard
    ['::7f00:1', 'reserved'], // IPv4-compatible (deprecated), outside 2000::/3
    ['4000::1', 'reserved'], // not global unicast
    ['64:ff9b:1::a00:1', 'private'], // local-use NAT64 prefix
  ])('%s is %s', (address, reason) => {
    expect(refused(address)).toBe(reason)
  })
})

describe('IPv4 embedded in IPv6 is judged as the IPv4 address', () => {
  it.each([
    ['::ffff:127.0.0.1', 'loopback', 'IPv4-mapped'],
    ['::ffff:7f00:1', 'loopback', 'IPv4-mapped'],
    ['::ffff:10.1.2.3', 'private', 'IPv4-mapped'],
    ['::ffff:169.254.169.254', 'cloud-metadata', 'IPv4-mapped'],
    ['::ffff:0:127.0.0.1', 'loopback', 'IPv4-translated'],
    ['64:ff9b::127.0.0.1', 'loopback', 'NAT64'],
    ['64:ff9b::a9fe:a9fe', 'cloud-metadata', 'NAT64'],
    ['64:ff9b::c0a8:101', 'private', 'NAT64'],
    ['2002:7f00:1::', 'loopback', '6to4'],
    ['2002:a00:1::1', 'private', '6to4'],
  ])('%s is %s (%s)', (address, reason, via) => {
    expect(classifyAddress(address)).toMatchObject({ refused: reason, via })
  })
})

describe('IPv4 spellings', () => {
  it.each([
    ['2130706433', '127.0.0.1'],
    ['0x7f000001', '127.0.0.1'],
    ['0x7f.1', '127.0.0.1'],
    ['0177.0.0.1', '127.0.0.1'],
    ['0177.0000.0000.0001', '127.0.0.1'],
    ['127.1', '127.0.0.1'],
    ['0', '0.0.0.0'],
    ['0xa9fea9fe', '169.254.169.254'],
    ['012.0.0.1', '10.0.0.1'],
  ])('%s is read as %s and refused', (spelling, canonical) => {
    const v = classifyAddress(spelling)
    expect(v.address).toBe(canonical)
    expect(v.refused).toBeDefined()
  })

  it('the URL parser writes them the same way, so the policy sees the canonical address', () => {
    expect(new URL('http://2130706433:8080/').hostname).toBe('127.0.0.1')
    expect(new URL('http://0x7f.1/').hostname).toBe('127.0.0.1')
    expect(new URL('http://0177.0.0.1/').hostname).toBe('127.0.0.1')
    expect(new URL('http://[::ffff:127.0.0.1]/').hostname).toBe('[::ffff:7f00:1]')
  })
})

describe('cloud metadata endpoints', () => {
  it.each([
    '169.254.169.254',
    '169.254.170.2',
    '169.254.169.123',
    '168.63.129.16', // Azure WireServer: public address space
    '100.100.100.200',
    '192.0.0.192',
    'fd00:ec2::254',
    'fd00:ec2::23',
  ])('%s is refused as cloud metadata', (address) => {
    expect(refused(address)).toBe('cloud-metadata')
  })
})

describe('allowlist entries', () => {
  it('accepts names, wildcards, addresses, CIDRs, and ports on names and addresses', () => {
    for (const e of [
      'hooks.internal.example',
      '*.svc.cluster.local',
      'hooks.internal:8443',
      '10.1.2.3',
      '10.1.2.3:8080',
      '10.0.0.0/8',
      'fd00::/8',
      '::1',
      '[::1]',
      '[::1]:8080',
      'localhost',
    ])
      expect(parseAllowEntry(e), e).not.toBeTypeOf('string')
  })

  it('refuses what is none of them', () => {
    for (const e of [
      '',
      'http://x',
      '10.0.0.0/33',
      '0x7f.1',
      '2130706433',
      'a..b',
      'x:70000',
      '[nope]:1',
      '*.',
    ])
      expect(parseAllowEntry(e), e).toBeTypeOf('string')
    const r = egressConfigSchema.safeParse({ allowlist: ['10.0.0.0/8', 'http://x'] })
    expect(r.success).toBe(false)
    expect(r.error?.issues[0]?.path).toEqual(['allowlist', 1])
  })

  it('matches names before resolution and addresses after, with ports when given', () => {
    const a = new Allowlist(['hooks.internal', '*.svc.local', '10.0.0.0/8', '127.0.0.1:8080', '[::1]:9000'])
    expect(a.allowsHost('HOOKS.internal.', 443)).toBe(true)
    expect(a.allowsHost('api.svc.local', 80)).toBe(true)
    expect(a.allowsHost('svc.local', 80)).toBe(false) // the wildcard names subdomains only
    expect(a.allowsHost('evil-hooks.internal', 80)).toBe(false)
    expect(a.allowsAddress('10.9.8.7', 1)).toBe(true)
    expect(a.allowsAddress('::ffff:10.9.8.7', 1)).toBe(true) // the same destination, IPv4-mapped
    expect(a.allowsAddress('127.0.0.1', 8080)).toBe(true)
    expect(a.allowsAddress('127.0.0.1', 8081)).toBe(false)
    expect(a.allowsAddress('::1', 9000)).toBe(true)
    expect(a.allowsAddress('::1', 80)).toBe(false)
    expect(a.allowsAddress('11.0.0.1', 80)).toBe(false)
  })
})
