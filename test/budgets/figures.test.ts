// A budget's figures, computed by hand (docs/cost.md, "Budgets", worked example): thresholds are
// exact in cents, the percentage is rounded down, and the forecast extends the month linearly.
import { describe, expect, it } from 'vitest'
import { budgetCents, crossedThresholds, forecast, percentSpent } from '../../src/budgets/figures.ts'

const at = (iso: string) => new Date(iso)
const december = at('2026-12-01T00:00:00Z')

describe('thresholds', () => {
  it('are crossed at exactly 50, 80 and 100% of the budget, not a cent before', () => {
    expect(crossedThresholds(14_999, 30_000)).toEqual([])
    expect(crossedThresholds(15_000, 30_000)).toEqual([50])
    expect(crossedThresholds(23_999, 30_000)).toEqual([50])
    expect(crossedThresholds(24_000, 30_000)).toEqual([50, 80])
    expect(crossedThresholds(29_999, 30_000)).toEqual([50, 80])
    expect(crossedThresholds(30_000, 30_000)).toEqual([50, 80, 100])
    expect(crossedThresholds(90_000, 30_000)).toEqual([50, 80, 100])
  })

  it('of a budget of 0 are all crossed: nothing may be spent', () => {
    expect(crossedThresholds(0, 0)).toEqual([50, 80, 100])
    expect(percentSpent(0, 0)).toBeNull()
  })

  it('show the percentage spent rounded down to one decimal', () => {
    // 12,345 / 30,000 = 41.15 %
    expect(percentSpent(12_345, 30_000)).toBe(41.1)
    // 29,999 / 30,000 = 99.9966... %: never shown as 100
    expect(percentSpent(29_999, 30_000)).toBe(99.9)
    expect(percentSpent(45_000, 30_000)).toBe(150)
  })

  it('take budgets in cents from amounts of up to two decimals', () => {
    expect(budgetCents(300)).toBe(30_000)
    expect(budgetCents(0.29)).toBe(29)
    expect(budgetCents(1234.56)).toBe(123_456)
  })
})

describe('the forecast', () => {
  it('extends the spend so far to the month and says when it reaches the budget', () => {
    // 10 of November's 30 days gone, 123.45 spent of 300.00: 123.45 + 123.45 × 20/10 = 370.35 at the
    // month's end; the budget is reached 10 days × (300 − 123.45) / 123.45 after now =
    // 1,235,635,479.95 ms, rounded up: 2026-11-25 07:13:55.480.
    expect(
      forecast(12_345, 30_000, at('2026-11-01T00:00:00Z'), at('2026-11-11T00:00:00Z'), december),
    ).toEqual({
      monthEndCents: 37_035,
      reachesBudgetAt: '2026-11-25T07:13:55.480Z',
    })
  })

  it("runs from a customer's creation when it began mid-month", () => {
    // Created 16 November; on the 21st (5 days) 50.00 spent: 50 + 50 × 10/5 = 150.00 at the end.
    // A budget of 200.00 would be reached 15 days after now, in December: not this month.
    expect(forecast(5_000, 20_000, at('2026-11-16T00:00:00Z'), at('2026-11-21T00:00:00Z'), december)).toEqual(
      {
        monthEndCents: 15_000,
        reachesBudgetAt: null,
      },
    )
  })

  it('says nothing will be reached without spend, and nothing more once reached', () => {
    const from = at('2026-11-01T00:00:00Z')
    const now = at('2026-11-16T00:00:00Z')
    expect(forecast(0, 30_000, from, now, december)).toEqual({ monthEndCents: 0, reachesBudgetAt: null })
    // 15 of 30 days: 300.00 → 600.00 at the end; already at the budget.
    expect(forecast(30_000, 30_000, from, now, december)).toEqual({
      monthEndCents: 60_000,
      reachesBudgetAt: null,
    })
  })
})
