// Pricing token kinds (src/pricing/price.ts; docs/sla.md, "Cost"): input less the cache subsets at
// the input price, each cache subset at its price, output less reasoning at the output price,
// reasoning at its price where one is set. The golden figures are the worked example of
// docs/sla.md, computed by hand there.
import { describe, expect, it } from 'vitest'
import { type PriceListInput, priceListSchema } from '../../src/pricing/index.ts'
import { priceUsage } from '../../src/pricing/price.ts'

const PRICES: PriceListInput = {
  currency: 'USD',
  models: [
    {
      model: 'claude-x',
      effectiveFrom: '2026-01-01',
      inputPerMillion: 3,
      outputPerMillion: 15,
      cacheReadPerMillion: 0.3,
      cacheWritePerMillion: 3.75,
      reasoningPerMillion: 30,
    },
    {
      model: 'claude-x',
      effectiveFrom: '2026-03-15',
      inputPerMillion: 3,
      outputPerMillion: 15,
      cacheReadPerMillion: 0.15,
      cacheWritePerMillion: 3.75,
      reasoningPerMillion: 30,
    },
    { model: 'o-x', effectiveFrom: '2026-01-01', inputPerMillion: 2, outputPerMillion: 8 },
  ],
}

const CALL = { i: 1_200_000, cr: 800_000, cw: 100_000, o: 50_000, r: 10_000 }

describe('pricing cache and reasoning tokens (the worked example of docs/sla.md)', () => {
  const f = priceUsage(
    priceListSchema.parse(PRICES),
    [],
    [
      { model: 'claude-x', d: '2026-03-10', ...CALL },
      { model: 'claude-x', d: '2026-03-20', ...CALL },
      { model: 'o-x', d: '2026-03-20', i: 500_000, cr: 200_000, o: 100_000, r: 60_000 },
    ],
  )

  it('prices each kind at its own price, on the day it was used', () => {
    expect(f.daily).toEqual([
      { day: '2026-03-10', cost: 2.415 },
      { day: '2026-03-20', cost: 4.095 },
    ])
    expect(f.byModel['claude-x']).toEqual({
      inputTokens: 2_400_000,
      outputTokens: 100_000,
      cacheReadTokens: 1_600_000,
      cacheWriteTokens: 200_000,
      reasoningTokens: 20_000,
      cost: 4.71,
    })
    expect(f.ai).toBe(6.51)
    expect(f.total).toBe(6.51)
    expect(f.totalCents).toBe(651)
  })

  it('prices cache tokens at the input price and reasoning at the output price where the model has no price of its own', () => {
    // o-x: 500,000 × 2 + 100,000 × 8 per million, as if the subsets were not there.
    expect(f.byModel['o-x']?.cost).toBe(1.8)
  })

  it('charges nothing twice: with every subset at its total price, the cost is input × input price + output × output price', () => {
    const plain = priceListSchema.parse({
      models: [
        {
          model: 'm',
          effectiveFrom: '2026-01-01',
          inputPerMillion: 2.5,
          outputPerMillion: 10,
          cacheReadPerMillion: 2.5,
          cacheWritePerMillion: 2.5,
          reasoningPerMillion: 10,
        },
      ],
    })
    for (const [i, cr, cw, o, r] of [
      [1000, 0, 0, 10, 0],
      [1000, 1000, 0, 10, 10],
      [987_654, 123_456, 65_432, 43_210, 1_234],
    ] as const) {
      const cost = priceUsage(plain, [], [{ model: 'm', d: '2026-02-01', i, cr, cw, o, r }]).ai
      expect(cost).toBeCloseTo((i * 2.5 + o * 10) / 1e6, 9)
    }
  })

  it('keeps old price lists and old usage rows working: no subsets, no subset prices', () => {
    const old = priceListSchema.parse({
      models: [{ model: 'gpt-x', effectiveFrom: '2026-01-01', inputPerMillion: 2, outputPerMillion: 8 }],
    })
    const figures = priceUsage(old, [], [{ model: 'gpt-x', d: '2026-02-01', i: 1_000_000, o: 1_000_000 }])
    expect(figures.ai).toBe(10)
    expect(figures).toMatchObject({ cacheReadTokens: 0, cacheWriteTokens: 0, reasoningTokens: 0 })
  })
})
