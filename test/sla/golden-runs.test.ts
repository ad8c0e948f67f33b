// The golden months of run figures: each file in golden-runs/ is one customer's hand-computed
// month(s) — its plan, its runs' events, and the figures and credit they must give. The runner
// writes every case's events into ClickHouse (and a healthy heartbeat for every minute, so uptime
// earns nothing), closes each month, and checks both the computed figures and the issued record,
// and that the figures from raw events are the same.
import { readdirSync, readFileSync } from 'node:fs'
import { basename, join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { z } from 'zod'
import { closeMonth, computeMonth } from '../../src/sla/index.ts'
import type { PlanInput } from '../../src/sla/schemas/plan.ts'
import {
  addCustomers,
  type GoldenEvent,
  heartbeats,
  insertEvents,
  openSlaEnv,
  parseMonth,
  type SlaTestEnv,
} from './golden.ts'

const RunEventSpec = z
  .object({
    at: z.iso.datetime(),
    action: z.enum(['succeeded', 'failed', 'cancelled', 'resumed']),
    durationMs: z.number().optional(),
    errorClass: z.enum(['validation', 'transient', 'agent', 'infrastructure']).optional(),
    cancelledBy: z.enum(['customer', 'operator']).optional(),
    cancelReason: z.string().optional(),
  })
  .strict()

const MonthExpectation = z
  .object({
    success: z.record(z.string(), z.unknown()).optional(),
    executionTime: z.array(z.record(z.string(), z.unknown())).optional(),
    creditPercent: z.number(),
    creditCents: z.number().int(),
    tiers: z.array(z.record(z.string(), z.unknown())),
  })
  .strict()

const GoldenCase = z
  .object({
    title: z.string(),
    plan: z.record(z.string(), z.unknown()),
    /** Minutes the customer's own probe failed (down for it alone), from `from`. */
    down: z.object({ from: z.iso.datetime(), minutes: z.number().int().positive() }).strict().optional(),
    runs: z.array(
      z
        .object({
          id: z.string(),
          count: z.number().int().positive().default(1),
          runType: z.string().default('build'),
          events: z.array(RunEventSpec).min(1),
        })
        .strict(),
    ),
    /** Expected figures and credit per month (YYYY-MM). */
    expect: z.record(z.string().regex(/^\d{4}-\d{2}$/), MonthExpectation),
  })
  .strict()

const dir = join(import.meta.dirname, 'golden-runs')
const cases = readdirSync(dir)
  .filter((f) => f.endsWith('.json'))
  .sort()
  .map((f) => ({
    customer: basename(f, '.json'),
    ...GoldenCase.parse(JSON.parse(readFileSync(join(dir, f), 'utf8'))),
  }))
const months = [...new Set(cases.flatMap((c) => Object.keys(c.expect)))].sort().map(parseMonth)
// Late enough for every month to be over; events after it do not exist yet.
const now = new Date(months.at(-1)!.end.getTime() + 3_600_000)

function eventsOf(c: (typeof cases)[number]): GoldenEvent[] {
  const probes = Array.from(
    { length: c.down?.minutes ?? 0 },
    (_, i): GoldenEvent => ({
      type: 'probe',
      customerId: c.customer,
      target: `${c.customer}-api`,
      ok: false,
      latencyMs: 9000,
      ts: new Date(Date.parse(c.down!.from) + i * 60_000 + 1000).toISOString(),
    }),
  )
  const runs = c.runs.flatMap((r) =>
    Array.from({ length: r.count }, (_, k) => (r.count > 1 ? `${r.id}#${k + 1}` : r.id)).flatMap((runId) =>
      r.events.map(
        ({ at, ...e }): GoldenEvent => ({
          type: 'run',
          customerId: c.customer,
          projectId: 'p1',
          runId,
          runType: r.runType,
          ts: at,
          ...e,
        }),
      ),
    ),
  )
  return [...probes, ...runs]
}

let env: SlaTestEnv

beforeAll(async () => {
  env = await openSlaEnv({
    plans: Object.fromEntries(cases.map((c) => [c.customer, c.plan as PlanInput])),
  })
  await addCustomers(
    env.pool,
    cases.map((c) => c.customer),
  )
  await insertEvents(env.ch, [...months.flatMap((m) => heartbeats(m)), ...cases.flatMap(eventsOf)])
  for (const m of months) await closeMonth(env, m, now)
})
afterAll(async () => {
  await env?.close()
})

describe.each(cases)('$customer: $title', (c) => {
  it.each(Object.entries(c.expect))('gives the hand-computed figures and credit of %s', async (key, want) => {
    const month = parseMonth(key)
    const [got] = (await computeMonth(env, month, [c.customer], { now })).customers
    // The per-run rollup (the default) gives exactly what judging each run from raw events gives.
    const [raw] = (await computeMonth(env, month, [c.customer], { now, source: 'raw' })).customers
    expect({ ...raw, computedAt: got!.computedAt, source: got!.source }).toEqual(got)
    if (want.success) expect(got!.success).toMatchObject(want.success)
    if (want.executionTime) {
      expect(got!.executionTime).toHaveLength(want.executionTime.length)
      for (const [i, e] of want.executionTime.entries()) expect(got!.executionTime[i]).toMatchObject(e)
    }
    expect(got!.uptime.downMinutes).toBe(c.down?.minutes ?? 0)
    expect(got!.evaluation).toMatchObject({
      creditPercent: want.creditPercent,
      creditCents: want.creditCents,
      tiers: want.tiers,
    })
    // The close issued the same credit, from the same figures.
    const { rows } = await env.pool.query(
      `SELECT credit_percent::float8 AS pct, credit_cents::int AS cents, inputs FROM sla_credits
       WHERE customer_id = $1 AND month = $2::date`,
      [c.customer, `${key}-01`],
    )
    expect(rows).toHaveLength(1)
    expect({ pct: rows[0].pct, cents: rows[0].cents }).toEqual({
      pct: want.creditPercent,
      cents: want.creditCents,
    })
    const { computedAt: _a, ...stored } = rows[0].inputs
    const { computedAt: _b, ...recomputed } = got!
    expect(stored).toEqual(recomputed)
  })
})
