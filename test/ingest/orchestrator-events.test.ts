// An orchestrator run's telemetry, end to end: the run's state changes write events into the
// outbox in their own transactions, and the relay lands each in ClickHouse once, with the
// dimensions the SLA and cost jobs group by.
import { afterAll, beforeAll, expect, it } from 'vitest'
import { chQuery } from '../../src/db/clickhouse.ts'
import { startTestSteward, type TestSteward } from '../helpers/app.ts'
import { fastConfig, run, submit, waitForRun } from '../orchestrator/helpers.ts'
import { eventually, ingestConfig, uniqueCustomer } from './support.ts'

let s: TestSteward
const customer = uniqueCustomer('orch')

beforeAll(async () => {
  s = await startTestSteward({
    file: {
      orchestrator: fastConfig(),
      ingest: ingestConfig({ heartbeatIntervalMs: 0, relay: { maxBatchAgeMs: 50, pollIntervalMs: 50 } }),
    },
  })
  expect((await s.api('POST', '/v1/customers', { id: customer, name: 'Orch' })).status).toBe(201)
})
afterAll(async () => {
  await s?.stop()
})

interface Row {
  event_id: string
  type: string
  action: string
  customer_id: string
  project_id: string
  run_type: string
  run_id: string
  job_id: string
  kind: string
  pool: string
  model: string
  input_tokens: number
  output_tokens: number
}

it("lands a run's events in ClickHouse once, with its dimensions", async () => {
  const id = await submit(
    s,
    run(
      [
        { key: 'plan', kind: 'noop' },
        {
          key: 'code',
          kind: 'simulate',
          dependsOn: ['plan'],
          input: { durationMs: 5, usage: { model: 'model-z', inputTokens: 120, outputTokens: 30 } },
        },
      ],
      { customerId: customer, projectId: 'web', type: 'build' },
    ),
  )
  expect((await waitForRun(s, id)).status).toBe('succeeded')
  const rows = await eventually(
    () =>
      chQuery<Row>(s.deps.clickhouse!, 'SELECT * FROM events WHERE run_id = {r:String} ORDER BY ts', {
        r: id,
      }),
    (r) => r.some((e) => e.type === 'run' && e.action === 'succeeded') && r.some((e) => e.type === 'usage'),
  )
  // Nothing still waits in the outbox for this run, and no event landed twice.
  await eventually(
    async () =>
      (await s.api('GET', '/readyz').then((r) => r.json())) as { ingest: { outboxBacklog: number } },
    (r) => r.ingest.outboxBacklog === 0,
  )
  const all = await chQuery<Row>(s.deps.clickhouse!, 'SELECT * FROM events WHERE run_id = {r:String}', {
    r: id,
  })
  expect(new Set(all.map((e) => e.event_id)).size).toBe(all.length)
  expect(all.length).toBeGreaterThanOrEqual(rows.length)

  for (const e of all) expect(e).toMatchObject({ customer_id: customer, project_id: 'web', run_id: id })
  const runActions = all.filter((e) => e.type === 'run').map((e) => e.action)
  expect(runActions.filter((a) => a === 'succeeded')).toHaveLength(1)
  expect(runActions).toContain('created')
  const jobs = all.filter((e) => e.type === 'job' && e.action === 'succeeded')
  expect(jobs.map((j) => j.kind).sort()).toEqual(['noop', 'simulate'])
  for (const j of jobs) expect(j.pool).not.toBe('')
  const usage = all.filter((e) => e.type === 'usage')
  expect(usage).toHaveLength(1)
  expect(usage[0]).toMatchObject({
    model: 'model-z',
    input_tokens: 120,
    output_tokens: 30,
    run_type: 'build',
  })
})
