// The error budgets of a customer's month, as the customer portal shows them: the downtime the
// uptime target allows over the whole month, how much of it is spent, and its burn-down day by day
// (with the ideal line: the budget spent evenly until the month ends); and the failed runs the
// success-rate target allows among the runs finished so far.
//
// Guarantees: computed from the same figures as the credit (a CustomerMonth), with the exact
// arithmetic of `allowedDowntimeMinutes`; a customer created mid-month gets a budget over the
// minutes it is in service, and its burn-down starts on its first day.
import { allowedDowntimeMinutes, DAY_MS, type Month, parseMonth } from './months.ts'
import type { CustomerMonth } from './schemas/figures.ts'

export interface BudgetDay {
  /** YYYY-MM-DD (UTC). */
  day: string
  /** Down minutes of the day, and the budget left at its end. */
  downMinutes: number
  remainingMinutes: number
  /** Where an even spend would leave the budget at the day's end. */
  idealMinutes: number
}

export interface ErrorBudget {
  uptime: {
    target: number
    /** Downtime the target allows over the month's eligible minutes (maintenance so far excluded). */
    budgetMinutes: number
    spentMinutes: number
    /** budget − spent; negative when the budget is overspent. */
    remainingMinutes: number
    /** remaining / budget in %, to one decimal (a budget of 0: 100 while nothing is spent, else 0). */
    remainingPercent: number
    /** One entry per day of the month so far (today included). */
    days: BudgetDay[]
    /** Days in the month: the burn-down chart's width. */
    monthDays: number
    /** Days of the month before the customer was in service (0 for most): where the ideal line starts. */
    startDay: number
  }
  successRate: {
    target: number
    finishedRuns: number
    failedRuns: number
    /** Failed runs the target allows among the runs finished so far. */
    allowedFailures: number
    remainingFailures: number
  }
}

const round = (x: number, digits: number) => Math.round(x * 10 ** digits) / 10 ** digits

export function errorBudget(m: CustomerMonth, month: Month = parseMonth(m.month)): ErrorBudget {
  const u = m.uptime
  const eligible = month.minutes - u.notInServiceMinutes - u.maintenanceMinutes
  const budget = allowedDowntimeMinutes(u.target, Math.max(0, eligible))
  const remaining = budget - u.downMinutes
  // The first day the customer was in service: the ideal line runs from there to the month's end.
  const startDay = Math.floor(u.notInServiceMinutes / 1440)
  const span = Math.max(1, month.days - startDay)
  let spent = 0
  const days = u.daily.map((d) => {
    spent += d.downMinutes
    const index = Math.round((Date.parse(`${d.day}T00:00:00Z`) - month.start.getTime()) / DAY_MS) + 1
    const evenShare = Math.min(1, Math.max(0, (index - startDay) / span))
    return {
      day: d.day,
      downMinutes: d.downMinutes,
      remainingMinutes: round(budget - spent, 4),
      idealMinutes: round(budget * (1 - evenShare), 4),
    }
  })
  const s = m.success
  // The same exact arithmetic: the share (100 − target)% of the finished runs may fail.
  const allowedFailures = allowedDowntimeMinutes(s.target, s.finished)
  return {
    uptime: {
      target: u.target,
      budgetMinutes: round(budget, 4),
      spentMinutes: u.downMinutes,
      remainingMinutes: round(remaining, 4),
      remainingPercent: budget > 0 ? round((remaining / budget) * 100, 1) : u.downMinutes > 0 ? 0 : 100,
      days,
      monthDays: month.days,
      startDay,
    },
    successRate: {
      target: s.target,
      finishedRuns: s.finished,
      failedRuns: s.failed,
      allowedFailures: round(allowedFailures, 4),
      remainingFailures: round(allowedFailures - s.failed, 4),
    },
  }
}
