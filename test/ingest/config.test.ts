// The ingest config section: `{}` gives the documented defaults, and mistakes are named.
import { describe, expect, it } from 'vitest'
import { ingestConfigSchema } from '../../src/ingest/config.ts'

describe('ingest config', () => {
  it('parses {} to the documented defaults', () => {
    expect(ingestConfigSchema.parse({})).toMatchObject({
      relay: { enabled: true, batchSize: 5_000, maxBatchAgeMs: 1_000, claimLeaseMs: 30_000 },
      dedupWindowHours: 168,
      http: { maxBodyBytes: 10 * 1024 * 1024, maxEventsPerRequest: 10_000, maxBacklog: 2_000_000 },
      heartbeatIntervalMs: 15_000,
      rawTtlDays: 0,
    })
  })

  it('refuses unknown keys and out-of-range values, naming each', () => {
    const r = ingestConfigSchema.safeParse({ batchSize: 10, relay: { batchSize: 0 }, rawTtlDays: -1 })
    expect(r.success).toBe(false)
    const paths = r.error!.issues.map((i) => i.path.join('.'))
    expect(paths).toEqual(expect.arrayContaining(['relay.batchSize', 'rawTtlDays']))
    expect(r.error!.issues.some((i) => i.code === 'unrecognized_keys')).toBe(true)
  })
})
