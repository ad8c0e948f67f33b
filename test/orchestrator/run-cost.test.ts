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
          {
            model: 'cached',
            effectiveFrom: '2020-01-01',
            inputPerMillion: 3,
            outputPerMillion: 15,
            cacheReadPerMillion: 0.3,
            cacheWritePerMillion: 3.75,
            reasoningPerMillion: 30,
          },
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
    const none = { cacheReadTokens: 0, cacheWriteTokens: 0, reasoningTokens: 0 }
    expect(r.cost.tokens).toEqual([
      { model: 'old-price', inputTokens: 1_000_000, outputTokens: 500_000, ...none },
      { model: 'unknown-model', inputTokens: 10, outputTokens: 10, ...none },
    ])
  })

  it('prices the cache and reasoning tokens a handler reports at their own prices (the worked example of docs/sla.md)', async () => {
    const usage = {
      model: 'cached',
      inputTokens: 1_200_000,
      cacheReadTokens: 800_000,
      cacheWriteTokens: 100_000,
      outputTokens: 50_000,
      reasoningTokens: 10_000,
    }
    const id = await submit(s, run([{ key: 'a', kind: 'simulate', input: { usage } }]))
    const r = await waitForRun(s, id)
    expect(r.cost.tokens).toEqual([usage])
    // 300,000 × 3 + 800,000 × 0.30 + 100,000 × 3.75 + 40,000 × 15 + 10,000 × 30 per million.
    expect(r.cost.ai).toBe(2.415)
  })

  it('refuses a run whose simulated usage has more cache tokens than input tokens', async () => {
    const res = await s.api('POST', '/v1/runs', {
      ...run([
        {
          key: 'a',
          kind: 'simulate',
          input: { usage: { model: 'cached', inputTokens: 5, outputTokens: 1, cacheReadTokens: 6 } },
        },
      ]),
    })
    expect(res.status).toBe(400)
    expect(((await res.json()) as { errors: { path: string }[] }).errors[0]?.path).toMatch(/cacheReadTokens$/)
  })
})
