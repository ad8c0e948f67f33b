// Pricing a customer-month: unit prices are exact decimals, every line is summed exactly, and the
// total is rounded to the cent once, half up (docs/sla.md, "Cost").
import { describe, expect, it } from 'vitest'
import { priceListSchema } from '../../src/pricing/index.ts'
import { priceUsage } from '../../src/pricing/price.ts'

const prices = priceListSchema.parse({
  models: [{ model: 'm', effectiveFrom: '2026-01-01', inputPerMillion: 5, outputPerMillion: 0.3 }],
  pools: [
    { pool: 'small', effectiveFrom: '2026-01-01', perWorkerSecond: 0.004 },
    { pool: 'a', effectiveFrom: '2026-01-01', perWorkerSecond: 0.1 },
    { pool: 'b', effectiveFrom: '2026-01-01', perWorkerSecond: 0.2 },
  ],
})

describe('the total in cents', () => {
  it('rounds once per customer-month, not per line: three 0.4-cent days are 1 cent, not 0', () => {
    const days = ['2026-03-01', '2026-03-02', '2026-03-03'].map((d) => ({ pool: 'small', d, ms: 1000 }))
    expect(priceUsage(prices, days, []).totalCents).toBe(1)
    expect(priceUsage(prices, days.slice(0, 1), []).totalCents).toBe(0)
  })

  it('rounds half up: 1,000 input tokens at 5 per million is half a cent, billed as 1', () => {
    expect(priceUsage(prices, [], [{ model: 'm', d: '2026-03-01', i: 1000, o: 0 }]).totalCents).toBe(1)
    expect(priceUsage(prices, [], [{ model: 'm', d: '2026-03-01', i: 999, o: 0 }]).totalCents).toBe(0)
  })

  it('computes exactly where binary floating point would not: 1.005 is 101 cents', () => {
    // 201,000 tokens at 5 per million is 1.005; as a float, 1.005 x 100 is 100.49999999999999.
    expect(Math.round(((201_000 * 5) / 1e6) * 100)).toBe(100)
    expect(priceUsage(prices, [], [{ model: 'm', d: '2026-03-01', i: 201_000, o: 0 }]).totalCents).toBe(101)
    const f = priceUsage(
      prices,
      [
        { pool: 'a', d: '2026-03-01', ms: 1000 },
        { pool: 'b', d: '2026-03-01', ms: 1000 },
      ],
      [{ model: 'm', d: '2026-03-01', i: 0, o: 1_000_000_000 }],
    )
    // 0.1 + 0.2 + 1,000 x 0.3 = 300.30 exactly
    expect(f.totalCents).toBe(30_030)
  })
})
