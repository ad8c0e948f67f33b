// Rounding in every report format: a figure of 99.89995% is 99.8999 in JSON and "99.89" in CSV and
// HTML — never "99.9 vs target 99.9" next to a credit — and amounts are cents rounded half up once.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { formatCents, formatPercent, percentOfCents } from '../../src/sla/money.ts'
import { buildCreditReport, CSV_COLUMNS, renderCsv, renderHtml } from '../../src/sla/report.ts'
import type { CreditReport } from '../../src/sla/schemas/credits.ts'
import {
  addCustomers,
  type GoldenEvent,
  heartbeats,
  insertEvents,
  openSlaEnv,
  parseMonth,
  type SlaTestEnv,
} from './golden.ts'

describe('how money and percentages are shown', () => {
  it.each([
    [99.8999, '99.89'],
    [99.9, '99.9'],
    [95, '95'],
    [0.29, '0.29'],
    [100, '100'],
    [33.3333, '33.33'],
  ])('shows %s%% as %s%% (rounded down)', (p, shown) => {
    expect(formatPercent(p)).toBe(shown)
  })

  it.each([
    [33_333, 10, 3_333],
    [10, 25, 3],
    [10, 15, 2],
    [100_000, 12.5, 12_500],
    [1, 50, 1],
    [1, 49.999999, 0],
  ])('credits %s cents × %s%% as %s cents (exact, half up)', (cents, percent, credited) => {
    expect(percentOfCents(cents, percent)).toBe(credited)
  })

  it.each([
    [-10_000, '-100.00'],
    [5, '0.05'],
    [123_456_789, '1234567.89'],
    [0, '0.00'],
  ])('writes %s cents as %s', (cents, text) => {
    expect(formatCents(cents)).toBe(text)
  })
})

describe('a month just under its target, in every report format', () => {
  let env: SlaTestEnv
  let report: CreditReport
  const march = parseMonth('2026-03')

  beforeAll(async () => {
    env = await openSlaEnv({
      plans: {
        edge: {
          monthlyFee: 1000,
          successRateTarget: 99.9,
          tiers: { successRate: [{ below: 99.9, credit: 10 }] },
        },
      },
    })
    await addCustomers(env.pool, ['edge'])
    const run = (i: number, action: 'succeeded' | 'failed'): GoldenEvent => ({
      type: 'run',
      customerId: 'edge',
      runId: `r${i}`,
      runType: 'build',
      action,
      durationMs: 1000,
      ts: '2026-03-10T10:00:00Z',
      ...(action === 'failed' ? { errorClass: 'transient' as const } : {}),
    })
    // 1997 of 1999: 99.899949...%
    await insertEvents(env.ch, [
      ...heartbeats(march),
      ...Array.from({ length: 1999 }, (_, i) => run(i, i < 1997 ? 'succeeded' : 'failed')),
    ])
    report = await buildCreditReport(env, march, 'edge', new Date('2026-04-02T00:00:00Z'))
  })
  afterAll(async () => {
    await env?.close()
  })

  it('keeps 4 decimals rounded down in JSON', () => {
    expect(report.items[0]!.figures.success).toMatchObject({ successRate: 99.8999, status: 'missed' })
    expect(report.items[0]!.creditCents).toBe(10_000)
  })

  it('shows 99.89 against 99.9 in CSV', () => {
    const [head, row] = renderCsv(report).trim().split('\r\n')
    expect(head!.split(',')).toEqual([...CSV_COLUMNS])
    const cells = Object.fromEntries(row!.split(',').map((v, i) => [CSV_COLUMNS[i], v]))
    expect(cells).toMatchObject({
      success_rate: '99.89',
      success_target: '99.9',
      success_status: 'missed',
      credit_amount: '100.00',
      net_credit_amount: '100.00',
    })
  })

  it('shows 99.89% against 99.9% in HTML, never 99.9% as the measured rate', () => {
    const html = renderHtml(report)
    expect(html).toContain('<td>99.89% (1997/1999)</td><td>99.9%</td><td class="miss">missed</td>')
    expect(html).not.toContain('99.9% (1997/1999)')
    expect(html).toContain('data-credit-amount="100.00"')
  })
})
