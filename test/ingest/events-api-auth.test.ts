// POST /v1/events — who is refused: no token, and customer tokens sending another customer's
// events. Nothing of a refused batch is stored.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startTestSteward, type TestSteward } from '../helpers/app.ts'
import { ingestConfig, postEvents, storedIds, uniqueCustomer, workload } from './support.ts'

let t: TestSteward
let acme: string
let acmeToken: string

beforeAll(async () => {
  t = await startTestSteward({ file: { ingest: ingestConfig({ heartbeatIntervalMs: 0 }) } })
  acme = uniqueCustomer('acme')
  expect((await t.api('POST', '/v1/customers', { id: acme, name: 'Acme' })).status).toBe(201)
  ;({ token: acmeToken } = (await (await t.api('POST', `/v1/customers/${acme}/tokens`, {})).json()) as {
    token: string
  })
})
afterAll(async () => {
  await t?.stop()
})

describe('POST /v1/events refuses', () => {
  it('a request without a token (401)', async () => {
    const events = workload(acme, 2)
    expect((await postEvents(t, JSON.stringify(events), { token: null })).status).toBe(401)
    expect((await postEvents(t, JSON.stringify(events), { token: 'not-a-token' })).status).toBe(401)
    expect(
      await storedIds(
        t.deps.pool,
        events.map((e) => e.eventId!),
      ),
    ).toBe(0)
  })

  it('a customer token sending another customer’s events (403), even mixed with its own', async () => {
    const own = workload(acme, 3)
    const other = workload('globex', 2)
    const res = await postEvents(t, JSON.stringify([...own, ...other]), { token: acmeToken })
    expect(res.status).toBe(403)
    const p = (await res.json()) as { errors: { path: string }[] }
    expect(p.errors.map((e) => e.path)).toEqual(['3.customerId', '4.customerId'])
    expect(
      await storedIds(
        t.deps.pool,
        [...own, ...other].map((e) => e.eventId!),
      ),
    ).toBe(0)
  })

  it('a customer token sending factory-level events (customerId "")', async () => {
    const events = workload('', 1)
    expect((await postEvents(t, JSON.stringify(events), { token: acmeToken })).status).toBe(403)
  })
})

describe('POST /v1/events allows', () => {
  it('a customer token its own events, and the admin any customer’s', async () => {
    const own = workload(acme, 2)
    expect((await postEvents(t, JSON.stringify(own), { token: acmeToken })).status).toBe(202)
    const any = [...workload('globex', 1), ...workload('', 1)]
    expect((await postEvents(t, JSON.stringify(any))).status).toBe(202)
    expect(
      await storedIds(
        t.deps.pool,
        [...own, ...any].map((e) => e.eventId!),
      ),
    ).toBe(4)
  })
})
