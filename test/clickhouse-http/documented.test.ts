// The /clickhouse routes as /openapi.json documents them: each answers a 2xx through the test
// client, whose conformance check holds the answer to the document (status, media type).
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ADMIN_TOKEN, startTestSteward, type TestSteward } from '../helpers/app.ts'

let s: TestSteward
beforeAll(async () => {
  s = await startTestSteward()
})
afterAll(async () => {
  await s?.stop()
})

const basic = { authorization: `Basic ${Buffer.from(`steward:${ADMIN_TOKEN}`).toString('base64')}` }

describe('what works', () => {
  it('answers the liveness probe without credentials', async () => {
    const res = await s.api('GET', '/clickhouse/ping', undefined, null)
    expect(res.status).toBe(200)
    expect(await res.text()).toBe('Ok.\n')
  })

  it('answers a query in the URL (GET) as TSV', async () => {
    const res = await s.api(
      'GET',
      `/clickhouse?query=${encodeURIComponent('SELECT 6 * 7')}`,
      undefined,
      null,
      basic,
    )
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toMatch(/^text\/tab-separated-values/)
    expect(await res.text()).toBe('42\n')
  })

  it('answers a query in the body (POST) in the format it asks for', async () => {
    const res = await s.api('POST', '/clickhouse', 'SELECT 42 AS answer FORMAT JSONEachRow', null, {
      ...basic,
      'content-type': 'text/plain',
    })
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toMatch(/^application\/x-ndjson/)
    expect(JSON.parse(await res.text())).toEqual({ answer: 42 })
  })
})
