// Credit tiers: exact boundaries, the execution-time tier and the cap.
import { describe, expect, it } from 'vitest'
import { ratioBelow } from '../../src/sla/months.ts'
import { evaluate, type PolicyInputs } from '../../src/sla/policy.ts'
import { planSchema } from '../../src/sla/schemas/plan.ts'

const plan = planSchema.parse({
  monthlyFee: 1000,
  executionTime: { build: { targetMs: 60_000, withinPercent: 90 } },
})
const inputs = (o: Partial<PolicyInputs> = {}): PolicyInputs => ({
  uptime: { upMinutes: 43_200, eligibleMinutes: 43_200 },
  success: { succeeded: 100, finished: 100 },
  executionTime: [],
  ...o,
})
const credit = (o: Partial<PolicyInputs>) => evaluate(plan, inputs(o)).creditPercent

describe('success-rate tiers', () => {
  it.each([
    [95, 100, 0],
    [9_499, 10_000, 10],
    [19, 20, 0],
    [90, 100, 10],
    [8_999, 10_000, 25],
    [0, 10, 25],
  ])('%s of %s runs succeeded → %s%% credit', (succeeded, finished, expected) => {
    expect(credit({ success: { succeeded, finished } })).toBe(expected)
  })

  it('gives no success-rate credit in a month without finished runs', () => {
    const e = evaluate(plan, inputs({ success: { succeeded: 0, finished: 0 } }))
    expect(e).toMatchObject({ creditPercent: 0, met: { successRate: true } })
  })
})

describe('uptime tiers', () => {
  it.each([
    [43_157, 0],
    [43_156, 10],
    [42_768, 10], // exactly 99.0%
    [42_767, 25],
    [41_040, 25], // exactly 95.0%
    [41_039, 100],
  ])('%s of 43200 minutes up → %s%% credit', (up, expected) => {
    expect(credit({ uptime: { upMinutes: up, eligibleMinutes: 43_200 } })).toBe(expected)
  })

  it('compares 99.9% exactly, where floating point would not', () => {
    // 999/1000 is 99.9% exactly; (999/1000)*100 < 99.9 is false in floats too, but 100-99.9 is not 0.1.
    expect(ratioBelow(999, 1000, 99.9)).toBe(false)
    expect(ratioBelow(998_999, 1_000_000, 99.9)).toBe(true)
    expect(ratioBelow(57, 60, 95)).toBe(false)
  })
})

describe('execution time, summing and the cap', () => {
  it('adds 10% when a run type misses its execution-time target', () => {
    const e = evaluate(plan, inputs({ executionTime: [{ runType: 'build', runs: 10, withinTarget: 8 }] }))
    expect(e.tiers).toEqual([
      { metric: 'execution_time', detail: 'build: 8/10 within 60000 ms', below: null, creditPercent: 10 },
    ])
    expect(e.creditCents).toBe(10_000)
    expect(credit({ executionTime: [{ runType: 'build', runs: 10, withinTarget: 9 }] })).toBe(0)
    expect(credit({ executionTime: [{ runType: 'deploy', runs: 10, withinTarget: 0 }] })).toBe(0)
  })

  it('sums the tiers and caps the total at the plan cap', () => {
    const e = evaluate(
      plan,
      inputs({
        uptime: { upMinutes: 40_000, eligibleMinutes: 43_200 },
        success: { succeeded: 50, finished: 100 },
      }),
    )
    expect(e).toMatchObject({ uncappedPercent: 125, creditPercent: 100, capped: true, creditCents: 100_000 })
    const capped = evaluate(
      planSchema.parse({ monthlyFee: 333.33, capPercent: 30 }),
      inputs({ success: { succeeded: 80, finished: 100 } }),
    )
    expect(capped).toMatchObject({ creditPercent: 25, creditCents: 8_333 })
  })
})
