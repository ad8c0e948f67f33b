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
