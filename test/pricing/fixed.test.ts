// The fixed cost's price list and sharing cents by weights (docs/cost.md): a fixed component in
// another currency is refused at the door; shares always add up to the amount, to the cent.
import { describe, expect, it } from 'vitest'
import { allocateCents, fixedCostOfMonth, priceListSchema } from '../../src/pricing/index.ts'

describe('the fixed cost', () => {
  it('refuses a fixed component in another currency than the price list, naming it', () => {
    const r = priceListSchema.safeParse({
      currency: 'USD',
      fixed: [{ component: 'database', effectiveFrom: '2026-01-01', monthlyAmount: 10, currency: 'EUR' }],
    })
    expect(r.success).toBe(false)
    expect(r.error!.issues[0]).toMatchObject({ path: ['fixed', 0, 'currency'] })
    expect(r.error!.issues[0]!.message).toMatch(/no exchange rates/)
  })

  it('costs nothing for a component on the days before its first price', () => {
    const prices = priceListSchema.parse({
      fixed: [{ component: 'queue', effectiveFrom: '2026-02-15', monthlyAmount: 28, currency: 'USD' }],
    })
    // February 2026 has 28 days; 14 of them from the 15th: 14.00.
    const f = fixedCostOfMonth(prices, new Date('2026-02-01T00:00:00Z'), new Date('2026-03-01T00:00:00Z'))
    expect(f).toEqual({
      currency: 'USD',
      totalCents: 1_400,
      components: [
        {
          component: 'queue',
          cents: 1_400,
          prices: [{ effectiveFrom: '2026-02-15', monthlyAmount: 28, days: 14 }],
        },
      ],
    })
    // A month before it: no component at all.
    expect(
      fixedCostOfMonth(prices, new Date('2026-01-01T00:00:00Z'), new Date('2026-02-01T00:00:00Z')),
    ).toEqual({
      currency: 'USD',
      totalCents: 0,
      components: [],
    })
  })
})

describe('sharing cents by the largest remainder', () => {
  it('gives 100 cents to three equal weights as 34, 33, 33 (the tie to the key that sorts first)', () => {
    const w = ['c', 'a', 'b'].map((key) => ({ key, weight: 1n }))
    expect(Object.fromEntries(allocateCents(100, w))).toEqual({ a: 34, b: 33, c: 33 })
  })

  it('adds up to the amount for any weights', () => {
    let seed = 7
    const next = () => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31
      return seed
    }
    for (let i = 0; i < 200; i++) {
      const cents = next() % 1_000_000
      const weights = Array.from({ length: 1 + (next() % 12) }, (_, k) => ({
        key: `k${k}`,
        weight: BigInt(next() % 50_000),
      }))
      const shares = allocateCents(cents, weights)
      const total = [...shares.values()].reduce((a, x) => a + x, 0)
      expect(total).toBe(weights.some((x) => x.weight > 0n) ? cents : 0)
      for (const x of weights) if (x.weight === 0n) expect(shares.get(x.key)).toBe(0)
    }
  })
})
