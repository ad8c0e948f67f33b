// Failure classes: how many attempts each gets, the backoff between them, fallback, DLQ, timeout.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { backoffDelay } from '../../src/orchestrator/index.ts'
import { startTestSteward, type TestSteward } from '../helpers/app.ts'
import { fastConfig, type Json, run, step, submit, waitForRun } from './helpers.ts'

let s: TestSteward
const BACKOFF = 20
beforeAll(async () => {
  s = await startTestSteward({ file: { orchestrator: fastConfig({ maxReclaims: 2 }) } })
  expect((await s.api('POST', '/v1/customers', { id: 'acme', name: 'Acme' })).status).toBe(201)
})
afterAll(async () => {
  await s?.stop()
})

const only = async (steps: Record<string, unknown>[]) => {
  const r = await waitForRun(s, await submit(s, run(steps)))
  return { r, job: step(r, steps[0]!.key as string) }
}
const outcomes = (job: Json) => job.attempts.map((a: Json) => a.outcome)

describe('transient failures', () => {
  it('retries with exponential backoff and full jitter, and succeeds on the 4th attempt', async () => {
    const { r, job } = await only([
      {
        key: 's',
        kind: 'simulate',
        input: { failTimes: 3, failWith: 'transient' },
        retry: { backoffMs: BACKOFF },
      },
    ])
    expect(r.status).toBe('succeeded')
    expect(outcomes(job)).toEqual(['retried', 'retried', 'retried', 'succeeded'])
    for (let n = 1; n <= 3; n++) {
      const a = job.attempts[n - 1]
      expect(a.errorClass).toBe('transient')
      expect(a.retryDelayMs).toBeGreaterThanOrEqual(0)
      expect(a.retryDelayMs).toBeLessThanOrEqual(BACKOFF * 2 ** (n - 1))
      // The next attempt did not start before its backoff elapsed.
      const gap = Date.parse(job.attempts[n].startedAt) - Date.parse(a.finishedAt)
      expect(gap).toBeGreaterThanOrEqual(a.retryDelayMs - 1)
    }
  })

  it('dead-letters a job after 4 attempts by default; its run fails with class transient', async () => {
    const { r, job } = await only([
      { key: 's', kind: 'simulate', input: { failTimes: 99 }, retry: { backoffMs: 1 } },
    ])
    expect(r).toMatchObject({ status: 'failed', errorClass: 'transient' })
    expect(job).toMatchObject({ status: 'dead', attempt: 4 })
    expect(outcomes(job)).toEqual(['retried', 'retried', 'retried', 'dead_lettered'])
  })

  it('honours a per-step maxAttempts', async () => {
    const { job } = await only([
      { key: 's', kind: 'simulate', input: { failTimes: 99 }, retry: { maxAttempts: 2, backoffMs: 1 } },
    ])
    expect(job).toMatchObject({ status: 'dead', attempt: 2 })
  })

  it('bounds full-jitter backoff by base * 2^(n-1) and the cap', () => {
    expect(backoffDelay(100, 1, 10_000, () => 0.999)).toBe(99)
    expect(backoffDelay(100, 4, 10_000, () => 0.999)).toBe(799)
    expect(backoffDelay(100, 20, 10_000, () => 0.999)).toBe(9_990)
    expect(backoffDelay(100, 3, 10_000, () => 0)).toBe(0)
  })
})

describe('validation failures', () => {
  it('fail the job at once, without retry, and fail the run', async () => {
    const { r, job } = await only([
      { key: 's', kind: 'simulate', input: { failTimes: 1, failWith: 'validation' } },
    ])
    expect(r).toMatchObject({ status: 'failed', errorClass: 'validation' })
    expect(job).toMatchObject({ status: 'failed', attempt: 1, errorClass: 'validation' })
    expect(outcomes(job)).toEqual(['failed'])
  })
})

describe('agent failures', () => {
  it('run the step fallback when one is given', async () => {
    const { r, job } = await only([
      { key: 's', kind: 'simulate', input: { failTimes: 9, failWith: 'agent' }, fallback: { kind: 'noop' } },
    ])
    expect(r.status).toBe('succeeded')
    expect(job).toMatchObject({ kind: 'noop', usingFallback: true, attempt: 2 })
    expect(job.attempts.map((a: Json) => [a.kind, a.outcome])).toEqual([
      ['simulate', 'retried'],
      ['noop', 'succeeded'],
    ])
  })

  it('dead-letter the job when there is no fallback', async () => {
    const { r, job } = await only([
      { key: 's', kind: 'simulate', input: { failTimes: 9, failWith: 'agent' } },
    ])
    expect(r).toMatchObject({ status: 'failed', errorClass: 'agent' })
    expect(job).toMatchObject({ status: 'dead', attempt: 1 })
  })
})

describe('infrastructure failures', () => {
  it('reclaim the job without spending its attempt budget', async () => {
    const { r, job } = await only([
      { key: 's', kind: 'simulate', input: { failTimes: 2, failWith: 'infra' }, retry: { maxAttempts: 1 } },
    ])
    expect(r.status).toBe('succeeded')
    expect(job).toMatchObject({ attempt: 3, failures: 0, reclaims: 2 })
  })

  it('are capped: a poison job is dead-lettered after maxReclaims', async () => {
    const { r, job } = await only([
      { key: 's', kind: 'simulate', input: { failTimes: 99, failWith: 'infra' } },
    ])
    expect(r).toMatchObject({ status: 'failed', errorClass: 'infrastructure' })
    expect(job).toMatchObject({ status: 'dead', attempt: 3, reclaims: 3 })
  })
})

describe('timeouts', () => {
  it('abort the handler and count as transient failures', async () => {
    const t0 = Date.now()
    const { r, job } = await only([
      {
        key: 's',
        kind: 'sleep',
        input: { ms: 30_000 },
        timeoutMs: 100,
        retry: { maxAttempts: 2, backoffMs: 1 },
      },
    ])
    expect(Date.now() - t0).toBeLessThan(20_000)
    expect(r).toMatchObject({ status: 'failed', errorClass: 'transient' })
    expect(job.attempts.map((a: Json) => a.error)).toEqual([
      'timed out after 100 ms',
      'timed out after 100 ms',
    ])
  })
})

describe('the dead-letter queue', () => {
  it('lists dead jobs with their error history, and retrying one completes its run', async () => {
    const id = await submit(
      s,
      run([
        { key: 'a', kind: 'simulate', input: { failTimes: 3 }, retry: { maxAttempts: 2, backoffMs: 1 } },
        { key: 'b', kind: 'noop', dependsOn: ['a'] },
      ]),
    )
    const failed = await waitForRun(s, id)
    expect(failed.status).toBe('failed')
    const jobId = step(failed, 'a').jobId
    const dlq = (await (await s.api('GET', '/v1/dlq')).json()) as Json
    const entry = dlq.items.find((j: Json) => j.jobId === jobId)
    expect(entry.attempts.map((a: Json) => a.error)).toEqual([
      'simulated transient failure on attempt 1',
      'simulated transient failure on attempt 2',
    ])
    expect(step(failed, 'b').status).toBe('blocked')

    expect((await s.api('POST', `/v1/dlq/${jobId}/retry`)).status).toBe(200)
    const done = await waitForRun(s, id, ['succeeded', 'failed'])
    expect(done.status).toBe('succeeded')
    expect(step(done, 'a').attempt).toBe(4)
    const after = (await (await s.api('GET', '/v1/dlq')).json()) as Json
    expect(after.items.some((j: Json) => j.jobId === jobId)).toBe(false)
    expect((await s.api('POST', `/v1/dlq/${jobId}/retry`)).status).toBe(404)
  })
})
