// GET /v1/runs/:id prices a run's work and tokens with the price list in effect on the day
// the work happened, and names usage it has no price for.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startTestSteward, type TestSteward } from '../helpers/app.ts'
import { fastConfig, run, submit, waitForRun } from './helpers.ts'

const today = new Date().toISOString().slice(0, 10)
let s: TestSteward
beforeAll(async () => {
  s = await startTestSteward({
    file: {
      orchestrator: fastConfig(),
      prices: {
        models: [
          {
            model: 'old-price',
            effectiveFrom: '2020-01-01',
            inputPerMillion: 1000,
            outputPerMillion: 1000,
          },
          { model: 'old-price', effectiveFrom: today, inputPerMillion: 2, outputPerMillion: 10 },
        ],
        pools: [{ pool: 'default', effectiveFrom: '2020-01-01', perWorkerSecond: 0.5 }],
      },
    },
  })
  await s.api('POST', '/v1/customers', { id: 'acme', name: 'Acme' })
})
afterAll(async () => {
  await s?.stop()
})

describe('the cost of a run', () => {
  it("prices worker-seconds at the pool's price and tokens at today's model price", async () => {
    const id = await submit(
      s,
      run([
        {
          key: 'a',
          kind: 'simulate',
          input: {
            durationMs: 120,
            usage: { model: 'old-price', inputTokens: 1_000_000, outputTokens: 500_000 },
          },
        },
        {
          key: 'b',
          kind: 'simulate',
          input: { usage: { model: 'unknown-model', inputTokens: 10, outputTokens: 10 } },
        },
      ]),
    )
    const r = await waitForRun(s, id)
    expect(r.status).toBe('succeeded')
    const seconds = r.steps.reduce(
      (sum: number, st: { attempts: { durationMs: number }[] }) =>
        sum + st.attempts.reduce((a, at) => a + at.durationMs, 0) / 1000,
      0,
    )
    expect(r.cost.currency).toBe('USD')
    expect(r.cost.ai).toBeCloseTo(2 + 5, 6)
    expect(r.cost.infrastructure).toBeCloseTo(seconds * 0.5, 6)
    expect(r.cost.total).toBeCloseTo(r.cost.ai + r.cost.infrastructure, 6)
    expect(r.cost.unpriced).toEqual({ models: ['unknown-model'], pools: [] })
    expect(r.cost.tokens).toEqual(
      expect.arrayContaining([{ model: 'old-price', inputTokens: 1_000_000, outputTokens: 500_000 }]),
    )
  })
})
