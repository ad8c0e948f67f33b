import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { ConfigError } from '../../src/config.ts'
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

describe('docs/steward.example.json', () => {
  it('is a valid config file', () => {
    const file = new URL('../../docs/steward.example.json', import.meta.url).pathname
    const c = loadConfig({ STEWARD_CONFIG: file })
    expect(c.sla.plans.acme?.monthlyFee).toBe(12000)
    expect(c.orchestrator.kindPools).toEqual({ sleep: 'batch' })
  })
})
