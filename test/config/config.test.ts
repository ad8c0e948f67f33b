import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { ConfigError } from '../../src/config.ts'
import { leaseFenceMs } from '../../src/orchestrator/config.ts'
import { loadConfig } from '../../src/server/index.ts'

const tmp = () => mkdtempSync(join(tmpdir(), 'steward-config-'))

describe('loadConfig', () => {
  it('gives the documented defaults for an empty environment', () => {
    const c = loadConfig({})
    expect(c.port).toBe(8080)
    expect(c.databaseUrl).toBeUndefined()
    expect(c.clickhouseUrl).toBeUndefined()
    expect(c.dataDir).toMatch(/\.steward$/)
    expect(c.clickhouseDir).toBe(join(c.dataDir, 'ch'))
    expect(c.pagerduty).toEqual({ routingKey: undefined, eventsHost: 'events.pagerduty.com' })
    expect(c.stewardUrl).toBe('http://127.0.0.1:8080')
    expect(c.egress).toEqual({
      allowlist: [],
      resolvers: [],
      timeoutMs: 30_000,
      maxResponseBytes: 65_536,
      maxRedirects: 5,
    })
  })

  it('treats empty variables as unset', () => {
    const c = loadConfig({ DATABASE_URL: '', PAGERDUTY_ROUTING_KEY: '', STEWARD_ADMIN_TOKEN: '' })
    expect(c.databaseUrl).toBeUndefined()
    expect(c.pagerduty.routingKey).toBeUndefined()
    expect(c.adminToken).toBeUndefined()
  })

  it('reads the price list at the top level, and still at its old place sla.prices', () => {
    const prices = { currency: 'EUR', models: [], pools: [] }
    expect(loadConfig({}, { prices }).prices.currency).toBe('EUR')
    const dir = tmp()
    const file = join(dir, 'old.json')
    writeFileSync(file, JSON.stringify({ sla: { prices } }))
    expect(loadConfig({ STEWARD_CONFIG: file }).prices.currency).toBe('EUR')
    writeFileSync(file, JSON.stringify({ sla: { prices }, prices }))
    expect(() => loadConfig({ STEWARD_CONFIG: file })).toThrowError(/sla\.prices: give the price list once/)
  })

  it.each([
    ['PORT', 'eighty'],
    ['PORT', '70000'],
    ['DATABASE_URL', 'not a url'],
    ['CLICKHOUSE_URL', 'localhost:8123'],
    ['STEWARD_ADMIN_TOKEN', 'short'],
    ['PAGERDUTY_ROUTING_KEY', 'too-short'],
    ['LOG_LEVEL', 'loud'],
  ])('refuses a bad %s and names it', (name, value) => {
    expect(() => loadConfig({ [name]: value })).toThrowError(ConfigError)
    expect(() => loadConfig({ [name]: value })).toThrowError(new RegExp(name))
  })

  it('names every bad variable at once', () => {
    try {
      loadConfig({ PORT: 'x', LOG_LEVEL: 'y' })
      expect.unreachable()
    } catch (err) {
      expect((err as Error).message).toMatch(/PORT/)
      expect((err as Error).message).toMatch(/LOG_LEVEL/)
    }
  })

  it('reads the JSON config file named by STEWARD_CONFIG', () => {
    const file = join(tmp(), 'steward.json')
    writeFileSync(file, JSON.stringify({ orchestrator: { workers: 7 } }))
    expect(loadConfig({ STEWARD_CONFIG: file }).orchestrator.workers).toBe(7)
  })

  it('refuses a missing, unparsable or invalid config file, naming the field', () => {
    const dir = tmp()
    expect(() => loadConfig({ STEWARD_CONFIG: join(dir, 'missing.json') })).toThrowError(
      /STEWARD_CONFIG: cannot read/,
    )
    writeFileSync(join(dir, 'bad.json'), '{ nope')
    expect(() => loadConfig({ STEWARD_CONFIG: join(dir, 'bad.json') })).toThrowError(/cannot read/)
    writeFileSync(
      join(dir, 'invalid.json'),
      JSON.stringify({ orchestrator: { workers: -1 }, surprise: true }),
    )
    const run = () => loadConfig({ STEWARD_CONFIG: join(dir, 'invalid.json') })
    expect(run).toThrowError(/orchestrator\.workers/)
    expect(run).toThrowError(/surprise|Unrecognized key/)
  })
})

describe('the egress section', () => {
  it('refuses an allowlist entry that is not a host, an address or a CIDR, naming it', () => {
    const dir = tmp()
    writeFileSync(
      join(dir, 'egress.json'),
      JSON.stringify({
        egress: { allowlist: ['10.0.0.0/8', 'http://internal/'], resolvers: ['dns.example'] },
      }),
    )
    const run = () => loadConfig({ STEWARD_CONFIG: join(dir, 'egress.json') })
    expect(run).toThrowError(ConfigError)
    expect(run).toThrowError(/egress\.allowlist\.1: "http:\/\/internal\/" is not a host name/)
    expect(run).toThrowError(/egress\.resolvers\.0: must be an IP address/)
  })
})

describe('the orchestrator section', () => {
  it('fences a lease at three quarters of it by default, or leaseMs minus the margin given', () => {
    expect(leaseFenceMs(loadConfig({}).orchestrator)).toBe(22_500)
    const c = loadConfig({}, { orchestrator: { leaseMs: 2_000, heartbeatMs: 250, leaseFenceMarginMs: 500 } })
    expect(leaseFenceMs(c.orchestrator)).toBe(1_500)
  })

  it('refuses a lease fence that comes before the first renewal, naming the field', () => {
    const fence = { orchestrator: { leaseMs: 1_000, heartbeatMs: 250, leaseFenceMarginMs: 800 } }
    expect(() => loadConfig({}, fence)).toThrowError(ConfigError)
    expect(() => loadConfig({}, fence)).toThrowError(
      /orchestrator\.leaseFenceMarginMs: leaseMs - leaseFenceMarginMs \(200 ms\) must exceed heartbeatMs \(250 ms\)/,
    )
    // With the default margin (a quarter of the lease), the heartbeat is what is too slow.
    expect(() => loadConfig({}, { orchestrator: { leaseMs: 1_000, heartbeatMs: 800 } })).toThrowError(
      /orchestrator\.heartbeatMs: leaseMs - leaseFenceMarginMs \(750 ms\) must exceed heartbeatMs \(800 ms\)/,
    )
  })
})

describe('docs/steward.example.json', () => {
  it('is a valid config file', () => {
    const file = new URL('../../docs/steward.example.json', import.meta.url).pathname
    const c = loadConfig({ STEWARD_CONFIG: file })
    expect(c.sla.plans.acme?.monthlyFee).toBe(12000)
    expect(c.orchestrator.kindPools).toEqual({ sleep: 'batch' })
    expect(c.egress.allowlist).toEqual(['hooks.internal.example:8443'])
  })
})
