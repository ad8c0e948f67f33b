// The per-run rollup behind the run figures (run_finals and run_resumes, ClickHouse 047): it gives
// exactly what raw events give — with copies of events inserted again, events arriving late, runs
// that finish again after the month, and events dated after the moment computed — and each run
// counts once, by its final outcome.
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { chQuery } from '../../src/db/clickhouse.ts'
import { loadMigrations, schemasDir, splitStatements } from '../../src/db/migrate.ts'
import { computeMonth } from '../../src/sla/index.ts'
import type { Month } from '../../src/sla/months.ts'
import { PLAIN_ROLLUP } from '../../src/sla/run-outcomes.ts'
import {
  addCustomers,
  type GoldenEvent,
  insertEvents,
  openSlaEnv,
  parseMonth,
  type SlaTestEnv,
} from './golden.ts'

let env: SlaTestEnv
const april = parseMonth('2026-04')
const may = parseMonth('2026-05')
const afterMay = new Date('2026-06-01T01:00:00Z')

type RunAction = 'succeeded' | 'failed' | 'cancelled' | 'resumed'
/** One event of run `runId` of `customerId`, with a fixed eventId (so it can be sent again). */
const ev = (
  customerId: string,
  runId: string,
  action: RunAction,
  ts: string,
  extra: Partial<GoldenEvent> = {},
): GoldenEvent =>
  ({
    type: 'run',
    eventId: `${customerId}/${runId}/${action}/${ts}`,
    customerId,
    projectId: 'p1',
    runId,
    runType: 'build',
    action,
    ts,
    ...(action === 'resumed' ? {} : { durationMs: 1000 }),
    ...(action === 'failed' ? { errorClass: 'transient' } : {}),
    ...extra,
  }) as GoldenEvent

/** The run figures of one customer from the rollup, after checking raw events give the same. */
async function runFigures(customerId: string, month: Month, now = afterMay) {
  const [rollup, raw] = await Promise.all([
    computeMonth(env, month, [customerId], { now, source: 'rollup' }),
    computeMonth(env, month, [customerId], { now, source: 'raw' }),
  ])
  const { computedAt: _c, source: _s, ...mine } = rollup.customers[0]!
  expect({ ...raw.customers[0]!, computedAt: _c, source: _s }).toEqual(rollup.customers[0])
  return { success: mine.success, executionTime: mine.executionTime }
}

// Runs of the `copies` customer: every kind of outcome, and a resumed run.
const copies = [
  ev('copies', 'ok', 'succeeded', '2026-04-03T10:00:00Z', { durationMs: 2000 }),
  ev('copies', 'bad', 'failed', '2026-04-03T11:00:00Z'),
  ev('copies', 'op', 'cancelled', '2026-04-04T09:00:00Z', {
    cancelledBy: 'operator',
    cancelReason: 'pool drained',
  }),
  ev('copies', 'again', 'failed', '2026-04-05T10:00:00Z'),
  ev('copies', 'again', 'resumed', '2026-04-06T10:00:00Z'),
  ev('copies', 'again', 'succeeded', '2026-04-06T10:00:30Z', { durationMs: 86_430_000 }),
]

beforeAll(async () => {
  env = await openSlaEnv({
    defaultPlan: { monthlyFee: 1000, executionTime: { build: { targetMs: 60_000 } } },
  })
  await addCustomers(env.pool, ['copies', 'twice', 'later', 'ahead', 'late', 'plain'])
  await insertEvents(env.ch, [
    ...copies,
    // Failed, then cancelled without a resume: by the customer, and by an operator.
    ev('twice', 'mine', 'failed', '2026-04-10T10:00:00Z', { errorClass: 'agent' }),
    ev('twice', 'mine', 'cancelled', '2026-04-11T10:00:00Z', { cancelledBy: 'customer' }),
    ev('twice', 'theirs', 'failed', '2026-04-10T10:00:00Z'),
    ev('twice', 'theirs', 'cancelled', '2026-04-12T10:00:00Z', {
      cancelledBy: 'operator',
      cancelReason: 'stuck',
    }),
    // Failed on the last evening of April, cancelled by an operator on 1 May: May's.
    ev('later', 'l', 'failed', '2026-04-30T23:00:00Z'),
    ev('later', 'l', 'cancelled', '2026-05-01T01:00:00Z', { cancelledBy: 'operator' }),
    ev('later', 'stays', 'succeeded', '2026-04-30T23:30:00Z'),
    // Finished again after the 15th: as of the 15th, both runs had failed.
    ev('ahead', 'x', 'failed', '2026-04-10T10:00:00Z'),
    ev('ahead', 'x', 'cancelled', '2026-04-20T10:00:00Z', { cancelledBy: 'customer' }),
    ev('ahead', 'y', 'failed', '2026-04-10T10:00:00Z'),
    ev('ahead', 'y', 'resumed', '2026-04-16T10:00:00Z'),
    ev('ahead', 'y', 'succeeded', '2026-04-16T10:00:05Z'),
    ev('late', 'e', 'failed', '2026-04-08T10:00:00Z'),
  ])
})
afterAll(async () => {
  await env?.close()
})

describe('the per-run rollup', () => {
  it('counts each run once when copies of its events are inserted again (a re-sent eventId past the dedup window)', async () => {
    const once = await runFigures('copies', april)
    expect(once.success).toMatchObject({
      succeeded: 2,
      failed: 1,
      operatorCancelled: 1,
      finished: 4,
      successRate: 50,
      operatorCancellations: [
        { runId: 'op', runType: 'build', at: '2026-04-04T09:00:00.000Z', reason: 'pool drained' },
      ],
    })
    // The resumed run is timed from its resume: 30 s, not the day since it was created (of two
    // runs, p50 is the upper one, as quantileExact takes it).
    expect(once.executionTime).toEqual([
      expect.objectContaining({ runType: 'build', runs: 2, withinTarget: 2, p50Ms: 30_000, p99Ms: 30_000 }),
    ])
    // Each insert carries its own deduplication token, as a re-sent event would: nothing drops it.
    await insertEvents(env.ch, copies)
    await insertEvents(env.ch, copies.slice(3))
    expect(await runFigures('copies', april)).toEqual(once)
  })

  it('counts each run once with copies of its events also in a month with no run to judge one by one', async () => {
    const plain = [
      ev('plain', 'a', 'succeeded', '2026-04-03T10:00:00Z'),
      ev('plain', 'b', 'failed', '2026-04-03T11:00:00Z'),
      ev('plain', 'b', 'cancelled', '2026-04-03T12:00:00Z', {
        cancelledBy: 'operator',
        cancelReason: 'stuck',
      }),
    ]
    await insertEvents(env.ch, plain)
    await insertEvents(env.ch, plain)
    const { success } = await runFigures('plain', april)
    expect(success).toMatchObject({ succeeded: 1, failed: 0, operatorCancelled: 1, finished: 2 })
    expect(success.operatorCancellations).toEqual([
      { runId: 'b', runType: 'build', at: '2026-04-03T12:00:00.000Z', reason: 'stuck' },
    ])
  })

  it("says, in the plain statement's own reading, when a run to judge arrived after the check", async () => {
    const params = {
      customers: ['plain'],
      from: april.start.getTime() / 1000,
      to: april.end.getTime() / 1000,
      now: afterMay.getTime(),
      keys: [],
      targets: [],
    }
    const flags = async () =>
      (await chQuery<{ exceptional: number }>(env.ch, PLAIN_ROLLUP.plain, params)).map((r) =>
        Number(r.exceptional),
      )
    expect(await flags()).toEqual([0, 0])
    await insertEvents(env.ch, [ev('plain', 'a', 'resumed', '2026-04-20T10:00:00Z')])
    expect(await flags()).toEqual([1, 1])
  })

  it('counts a run that failed and was then cancelled once, by its cancellation', async () => {
    const { success } = await runFigures('twice', april)
    expect(success).toMatchObject({
      succeeded: 0,
      failed: 0,
      operatorCancelled: 1,
      finished: 1,
      excluded: { validation: 0, customerCancelled: 1 },
      failedByClass: {},
    })
    expect(success.operatorCancellations.map((c) => c.runId)).toEqual(['theirs'])
  })

  it('counts a run finished again after the month in the later month only', async () => {
    expect((await runFigures('later', april)).success).toMatchObject({ succeeded: 1, failed: 0, finished: 1 })
    expect((await runFigures('later', may)).success).toMatchObject({ operatorCancelled: 1, finished: 1 })
    // Before May's event existed, April counted the failure.
    const beforeMay = new Date('2026-04-30T23:45:00Z')
    expect((await runFigures('later', april, beforeMay)).success).toMatchObject({ succeeded: 1, failed: 1 })
  })

  it('judges a run by its events up to the moment computed, also when later ones exist', async () => {
    const midApril = new Date('2026-04-15T00:00:00Z')
    expect((await runFigures('ahead', april, midApril)).success).toMatchObject({
      succeeded: 0,
      failed: 2,
      excluded: { customerCancelled: 0 },
    })
    const { success, executionTime } = await runFigures('ahead', april)
    expect(success).toMatchObject({ succeeded: 1, failed: 0, excluded: { customerCancelled: 1 } })
    expect(executionTime).toEqual([expect.objectContaining({ runs: 1, p50Ms: 5000 })])
  })

  it('takes events that arrive after the fact into the next computation', async () => {
    expect((await runFigures('late', april)).success).toMatchObject({ succeeded: 0, failed: 1 })
    await insertEvents(env.ch, [
      ev('late', 'e', 'resumed', '2026-04-09T10:00:00Z'),
      ev('late', 'e', 'succeeded', '2026-04-09T10:00:20Z'),
      ev('late', 'f', 'succeeded', '2026-04-02T10:00:00Z'),
    ])
    const { success, executionTime } = await runFigures('late', april)
    expect(success).toMatchObject({ succeeded: 2, failed: 0, finished: 2 })
    expect(executionTime).toEqual([expect.objectContaining({ runs: 2, withinTarget: 2, p99Ms: 20_000 })])
  })

  it("changes no figure when the migration's backfill runs again (its rows collapse with the views')", async () => {
    const ids = ['copies', 'twice', 'later', 'ahead', 'late', 'plain']
    const before = await computeMonth(env, april, ids, { now: afterMay })
    const backfill = (await loadMigrations(join(schemasDir, 'clickhouse')))
      .filter((m) => m.id === '047_run_finals')
      .flatMap((m) => splitStatements(m.sql))
      .filter((s) => s.startsWith('INSERT INTO'))
    expect(backfill).toHaveLength(2)
    for (const query of backfill) await env.ch.command({ query })
    const after = await computeMonth(env, april, ids, { now: afterMay })
    const strip = (f: typeof before) => f.customers.map(({ computedAt: _c, ...rest }) => rest)
    expect(strip(after)).toEqual(strip(before))
  })
})
