// POST /v1/events — what is refused: malformed, wrong-type, oversized and undecodable batches get
// a 4xx naming the problem, and nothing of the batch is stored.
import { gzipSync } from 'node:zlib'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startTestSteward, type TestSteward } from '../helpers/app.ts'
import { ingestConfig, postEvents, storedIds, uniqueCustomer, workload } from './support.ts'

let t: TestSteward

beforeAll(async () => {
  t = await startTestSteward({
    file: {
      ingest: ingestConfig({
        heartbeatIntervalMs: 0,
        http: { maxBodyBytes: 16 * 1024, maxDecodedBytes: 64 * 1024, maxEventsPerRequest: 20 },
      }),
    },
  })
})
afterAll(async () => {
  await t?.stop()
})

type Problem = { status: number; detail: string; errors?: { path: string; message: string }[] }

/** Posts, expects `status` and a problem+json body, and checks no event of the batch was stored. */
async function refused(
  status: number,
  events: { eventId?: string }[],
  body: string | Uint8Array,
  headers = {},
) {
  const res = await postEvents(t, body, { headers })
  expect(res.status).toBe(status)
  expect(res.headers.get('content-type')).toContain('application/problem+json')
  expect(await storedIds(t.deps.pool, events.map((e) => e.eventId!).filter(Boolean))).toBe(0)
  return (await res.json()) as Problem
}

describe('POST /v1/events refuses', () => {
  it('a batch with one malformed NDJSON line, naming its index', async () => {
    const events = workload(uniqueCustomer('bad'), 4)
    const lines = events.map((e) => JSON.stringify(e))
    lines.splice(2, 0, '{"type": "run", ')
    const p = await refused(400, events, lines.join('\n'), { 'content-type': 'application/x-ndjson' })
    expect(p.errors).toEqual([
      expect.objectContaining({ path: '2', message: expect.stringMatching(/line 3 is not valid JSON/) }),
    ])
    expect(p.detail).toMatch(/nothing was stored/)
  })

  it('wrong-type and missing fields, naming each by index and field', async () => {
    const events = workload(uniqueCustomer('type'), 6)
    const bad: unknown[] = [...events]
    bad[1] = { ...events[1], attempt: 'first' } // job.attempt must be an integer
    bad[3] = { ...events[3], status: 42 } // api_request.status out of range
    const { eventId: _, ...noId } = events[4]!
    bad[4] = noId
    bad[5] = { ...events[5], type: 'teleport' }
    const p = await refused(400, events, JSON.stringify(bad))
    const paths = p.errors!.map((e) => e.path)
    expect(paths).toEqual(expect.arrayContaining(['1.attempt', '3.status', '4.eventId', '5.type']))
    expect(paths.some((x) => x.startsWith('0.') || x.startsWith('2.'))).toBe(false)
  })

  it('fields an event type does not have (a typo is not silently dropped)', async () => {
    const events = workload(uniqueCustomer('extra'), 1)
    const p = await refused(400, events, JSON.stringify([{ ...events[0], durationMS: 5 }]))
    expect(p.errors![0]!.path).toMatch(/^0/)
  })

  it('a NUL, another control character or a lone surrogate in any string or key, naming index.field', async () => {
    const events = workload(uniqueCustomer('text'), 5)
    const bad: unknown[] = [...events]
    bad[1] = { ...events[1], projectId: 'a\u0000b' }
    bad[2] = { ...events[2], 'route\u0001': 'x' }
    bad[3] = { ...events[3], instanceId: 'cp-\ud800' }
    const p = await refused(400, events, JSON.stringify(bad))
    expect(p.errors).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ path: '1.projectId', message: expect.stringMatching(/U\+0000/) }),
        expect.objectContaining({ path: '2.(key)' }),
        expect.objectContaining({
          path: '3.instanceId',
          message: expect.stringMatching(/lone UTF-16 surrogate/),
        }),
      ]),
    )
    expect(p.errors!.some((e) => e.path.startsWith('0.') || e.path.startsWith('4.'))).toBe(false)
  })

  it('event times out of bounds, naming index.ts (or a recovery’s detectedAt / recoveredAt)', async () => {
    const day = 86_400_000
    const [e] = workload(uniqueCustomer('time'), 1)
    const now = Date.now()
    const batch = [
      { ...e, ts: '0000-01-01T00:00:00+01:00' },
      { ...e, ts: '9999-12-31T23:59:59Z' },
      { ...e, ts: new Date(now + 2 * day).toISOString() },
      { ...e, customerId: '', ts: new Date(now - 500 * day).toISOString() }, // factory: 400 days
      { ...e, ts: new Date(now - 8 * day).toISOString() }, // an unregistered customer: 7 days
      {
        ...e,
        type: 'recovery',
        recoveryKind: 'full_recovery',
        detectedAt: '0001-01-01T00:00:00Z',
        recoveredAt: new Date(now + 3 * day).toISOString(),
        action: undefined,
        runId: undefined,
        runType: undefined,
        durationMs: undefined,
        errorClass: undefined,
      },
    ].map((x, i) => ({ ...x, eventId: `${e!.eventId}-${i}` }))
    const p = await refused(400, batch, JSON.stringify(batch))
    expect(p.errors!.map((x) => x.path).sort()).toEqual([
      '0.ts',
      '1.ts',
      '2.ts',
      '3.ts',
      '4.ts',
      '5.detectedAt',
      '5.recoveredAt',
    ])
    expect(p.errors![2]!.message).toMatch(/24 h in the future/)
    expect(p.errors![3]!.message).toMatch(/400 days/)
    expect(p.errors![4]!.message).toMatch(/not registered/)
  })

  it('the operator’s history of a customer from before its contract start', async () => {
    const id = uniqueCustomer('contract')
    const since = new Date(Date.now() - 30 * 86_400_000)
    expect((await t.api('POST', '/v1/customers', { id, name: 'C', since: since.toISOString() })).status).toBe(
      201,
    )
    const at = (d: number) => new Date(since.getTime() + d * 3_600_000).toISOString()
    const [before, after] = workload(id, 2).map((e, i) => ({ ...e, ts: at(i === 0 ? -1 : 1) }))
    const p = await refused(400, [before!, after!], JSON.stringify([before, after]))
    expect(p.errors).toEqual([
      expect.objectContaining({ path: '0.ts', message: expect.stringMatching(/contract start/) }),
    ])
    // From the contract start on, its history is accepted.
    expect((await postEvents(t, JSON.stringify([after]))).status).toBe(202)
  })

  it('a body that is neither a JSON array nor NDJSON objects', async () => {
    await refused(400, [], '[{"eventId":')
    await refused(400, [], '42')
    await refused(400, [], '[]')
  })

  it('a body larger than the limit (413), checked before counting its events', async () => {
    const events = workload(uniqueCustomer('big'), 60).map((e) => ({ ...e, projectId: 'p'.repeat(128) }))
    const body = JSON.stringify(events)
    expect(body.length).toBeGreaterThan(16 * 1024)
    const p = await refused(413, events, body)
    expect(p.detail).toMatch(/16384 bytes/)
  })

  it('more events than one request may carry (413)', async () => {
    const events = workload(uniqueCustomer('many'), 21)
    const p = await refused(413, events, events.map((e) => JSON.stringify(e)).join('\n'))
    expect(p.detail).toMatch(/at most 20/)
  })

  it('gzip that expands past the decoded limit (413), and gzip that is not gzip (400)', async () => {
    const bomb = gzipSync(`[${' '.repeat(200 * 1024)}]`)
    expect(bomb.length).toBeLessThan(16 * 1024)
    await refused(413, [], bomb, { 'content-encoding': 'gzip' })
    const events = workload(uniqueCustomer('gz'), 2)
    await refused(400, events, JSON.stringify(events), { 'content-encoding': 'gzip' })
  })

  it('a content encoding other than gzip (415)', async () => {
    const events = workload(uniqueCustomer('br'), 2)
    await refused(415, events, JSON.stringify(events), { 'content-encoding': 'br' })
  })
})
