// Error budgets of a customer's month (what the portal's burn-down shows): the downtime the uptime
// target allows over the whole month, what is left, the day-by-day burn-down with its ideal line,
// and the failed runs the success-rate target allows.
import { describe, expect, it } from 'vitest'
import { errorBudget } from '../../src/sla/index.ts'
import type { CustomerMonth } from '../../src/sla/schemas/figures.ts'

/** The parts of a month's figures the budget reads: 30-day November, `down` minutes on given days. */
function month(o: {
  target?: number
  down?: Record<number, number>
  days?: number
  notInService?: number
  maintenance?: number
  finished?: number
  failed?: number
}): CustomerMonth {
  const down = o.down ?? {}
  const days = o.days ?? 10
  const daily = Array.from({ length: days }, (_, i) => ({
    day: `2026-11-${String(i + 1).padStart(2, '0')}`,
    eligibleMinutes: 1440,
    downMinutes: down[i + 1] ?? 0,
    percent: 100,
  }))
  return {
    month: '2026-11',
    uptime: {
      target: o.target ?? 99.9,
      notInServiceMinutes: o.notInService ?? 0,
      maintenanceMinutes: o.maintenance ?? 0,
      downMinutes: Object.values(down).reduce((a, b) => a + b, 0),
      daily,
    },
    success: { target: 95, finished: o.finished ?? 0, failed: o.failed ?? 0 },
  } as unknown as CustomerMonth
}

describe('the uptime budget', () => {
  it('allows 43.2 minutes at 99.9 % over a 30-day month, whatever part of it has passed', () => {
    const b = errorBudget(month({ days: 3 })).uptime
    expect(b.budgetMinutes).toBe(43.2)
    expect(b.remainingMinutes).toBe(43.2)
    expect(b.remainingPercent).toBe(100)
    expect(b.monthDays).toBe(30)
  })

  it('burns down by each day’s down minutes, against an ideal line that reaches zero on the last day', () => {
    const b = errorBudget(month({ down: { 2: 10, 4: 5 }, days: 5 })).uptime
    expect(b.days.map((d) => d.remainingMinutes)).toEqual([43.2, 33.2, 33.2, 28.2, 28.2])
    expect(b.days.map((d) => d.idealMinutes)).toEqual([41.76, 40.32, 38.88, 37.44, 36])
    expect(b.spentMinutes).toBe(15)
    expect(b.remainingMinutes).toBe(28.2)
    expect(b.remainingPercent).toBe(65.3)
  })

  it('goes negative when overspent', () => {
    const b = errorBudget(month({ down: { 1: 50 } })).uptime
    expect(b.remainingMinutes).toBe(-6.8)
    expect(b.remainingPercent).toBe(-15.7)
  })

  it('leaves maintenance out of the budget, and measures a customer created mid-month from its first day', () => {
    expect(errorBudget(month({ maintenance: 1440 })).uptime.budgetMinutes).toBe(41.76)
    const late = errorBudget(month({ notInService: 15 * 1440, days: 20 })).uptime
    expect(late.budgetMinutes).toBe(21.6)
    expect(late.startDay).toBe(15)
    // The ideal line starts whole on day 15 and reaches zero on day 30.
    expect(late.days[14]!.idealMinutes).toBe(21.6)
    expect(late.days[15]!.idealMinutes).toBe(20.16)
  })

  it('is nothing at a 100 % target: 100 % left until a minute is down, then 0 %', () => {
    expect(errorBudget(month({ target: 100 })).uptime.remainingPercent).toBe(100)
    expect(errorBudget(month({ target: 100, down: { 1: 1 } })).uptime.remainingPercent).toBe(0)
  })
})

describe('the success-rate budget', () => {
  it('allows (100 − target) % of the finished runs to fail', () => {
    expect(errorBudget(month({ finished: 20, failed: 0 })).successRate).toMatchObject({
      allowedFailures: 1,
      remainingFailures: 1,
    })
    expect(errorBudget(month({ finished: 21, failed: 4 })).successRate).toMatchObject({
      allowedFailures: 1.05,
      remainingFailures: -2.95,
    })
  })
})
