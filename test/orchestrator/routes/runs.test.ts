// /v1/runs, what works: a run's steps run in dependency order, with their usage and cost.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startTestSteward, type TestSteward } from '../../helpers/app.ts'
import { fastConfig, run, step, submit, waitForRun } from '../helpers.ts'

let s: TestSteward
beforeAll(async () => {
  // The relay stays off: tests read the run's telemetry in the outbox, where a relay would race them.
  s = await startTestSteward({
    file: { orchestrator: fastConfig(), ingest: { relay: { enabled: false }, heartbeatIntervalMs: 0 } },
  })
  expect((await s.api('POST', '/v1/customers', { id: 'acme', name: 'Acme' })).status).toBe(201)
})
afterAll(async () => {
  await s?.stop()
})

describe('running a run', () => {
  it('runs steps in dependency order and succeeds', async () => {
    const id = await submit(
      s,
      run([
        { key: 'c', kind: 'noop', dependsOn: ['a', 'b'] },
        { key: 'a', kind: 'sleep', input: { ms: 30 } },
        {
          key: 'b',
          kind: 'simulate',
          input: { durationMs: 10, usage: { model: 'gpt-x', inputTokens: 10, outputTokens: 5 } },
        },
      ]),
    )
    const r = await waitForRun(s, id)
    expect(r.status).toBe('succeeded')
    const started = (k: string) => Date.parse(step(r, k).attempts[0].startedAt)
    const finished = (k: string) => Date.parse(step(r, k).attempts[0].finishedAt)
    expect(started('c')).toBeGreaterThanOrEqual(finished('a'))
    expect(started('c')).toBeGreaterThanOrEqual(finished('b'))
    expect(r.cost.tokens).toEqual([
      {
        model: 'gpt-x',
        inputTokens: 10,
        outputTokens: 5,
        cacheReadTokens: 0,
        cacheWriteTokens: 0,
        reasoningTokens: 0,
      },
    ])
    expect(r.cost.workerSeconds).toBeGreaterThan(0)
    const { rows } = await s.deps.pool.query(
      `SELECT body FROM telemetry_outbox WHERE body->>'type' = 'usage' AND body->>'runId' = $1`,
      [id],
    )
    expect(rows.map((e) => e.body)).toMatchObject([
      {
        customerId: 'acme',
        projectId: 'web',
        runType: 'build',
        model: 'gpt-x',
        inputTokens: 10,
        outputTokens: 5,
      },
    ])
  })

  it('starts a step that joins many parallel steps exactly when the last of them succeeds', async () => {
    for (let round = 0; round < 3; round++) {
      const parallel = Array.from({ length: 12 }, (_, i) => ({ key: `p${i}`, kind: 'noop' }))
      const id = await submit(
        s,
        run([...parallel, { key: 'join', kind: 'noop', dependsOn: parallel.map((p) => p.key) }]),
      )
      const r = await waitForRun(s, id, ['succeeded', 'failed'], 10_000)
      expect(r.status).toBe('succeeded')
      expect(step(r, 'join').attempt).toBe(1)
    }
  })
})
