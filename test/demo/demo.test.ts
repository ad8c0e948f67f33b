// `steward demo --quick` end to end on an embedded Steward: it prints credits equal to what
// GET /v1/sla/credits serves for the month, and its live part shows the promised failures.
import { afterAll, describe, expect, it } from 'vitest'
import { type DemoResult, runDemo } from '../../src/demo/index.ts'
import { testConfig } from '../helpers/app.ts'
import { createTestDatabaseUrl, testClickHouseDir } from '../helpers/db.ts'

let result: DemoResult | undefined
afterAll(async () => {
  await result?.target.close()
})

/** Each customer's printed credit line, by customer. */
function printedCredits(text: string): Record<string, { percent: number; amount: number; currency: string }> {
  const out: Record<string, { percent: number; amount: number; currency: string }> = {}
  let customer = ''
  for (const line of text.split('\n')) {
    const head = /^(\S+) {2}\(plan v\d+, (closed|provisional)\)$/.exec(line)
    if (head) customer = head[1]!
    const credit = /^ {2}credit +([\d.]+)% of [\d,.]+ (\w+) = ([\d,.]+) \w+$/.exec(line)
    if (credit && customer) {
      out[customer] = {
        percent: Number(credit[1]),
        amount: Number(credit[3]!.replaceAll(',', '')),
        currency: credit[2]!,
      }
    }
  }
  return out
}

describe('steward demo', () => {
  it('prints the credits that GET /v1/sla/credits serves, after a month with an outage and a failure burst', async () => {
    let printed = ''
    const config = {
      ...testConfig({ databaseUrl: await createTestDatabaseUrl() }),
      clickhouseDir: testClickHouseDir(),
    }
    result = await runDemo(config, {
      quick: true,
      forceEmbedded: true,
      keepOpen: true,
      out: (t) => {
        printed += t
      },
    })

    const credits = await result.target.api.json<{
      items: {
        customerId: string
        status: string
        creditPercent: number
        creditCents: number
        currency: string
      }[]
    }>('GET', `/v1/sla/credits?month=${result.month}`)
    const served = Object.fromEntries(
      credits.items.map((i) => [
        i.customerId,
        { percent: i.creditPercent, amount: i.creditCents / 100, currency: i.currency },
      ]),
    )
    expect(printedCredits(printed)).toEqual(served)
    expect(credits.items.map((i) => i.status)).toEqual(['closed', 'closed', 'closed'])
    // The demo's customers are tuned to land on different tiers: not everyone gets the same credit.
    expect(new Set(credits.items.map((i) => i.creditPercent)).size).toBeGreaterThan(1)

    // Last month's maintenance was entered afterwards: an audited late adjustment, not planned.
    const windows = await result.target.api.json<{
      items: { status: string; adjustment: { kinds: string[] } | null }[]
    }>('GET', `/v1/sla/maintenance?month=${result.month}`)
    expect(windows.items).toEqual([
      expect.objectContaining({
        status: 'adjustment',
        adjustment: expect.objectContaining({ kinds: ['late'] }),
      }),
    ])

    const { live } = result
    expect(live.workerKill).toMatchObject({ status: 'succeeded', reclaimed: true })
    expect(live.incidents.map((i) => i.rule)).toContain('success_rate_burn')
    expect(live.pages).toBeGreaterThanOrEqual(live.incidents.length + 2)
    expect(live.customerNotices).toBeGreaterThan(0)
    expect(printed).toMatch(/demo finished in/)
  }, 180_000)
})
