// POST /v1/events — who is refused, and what each sender may say: no token; a customer token
// sending another customer's events, factory events or platform facts (run, job, worker,
// heartbeat, recovery, incident: only Steward records those); any sender using Steward's id
// namespace. Nothing of a refused batch is stored. Event ids are per customer: nobody pre-empts
// another customer's event or one of Steward's.
//
// A customer token could send run and job events before issue 13: a forged failing probe or job
// paged PagerDuty and notified every customer. They are platform facts, so they are now refused.
import { randomUUID } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { appendEvents } from '../../src/ingest/index.ts'
import { startTestSteward, type TestSteward } from '../helpers/app.ts'
import { evidence, ingestConfig, postEvents, storedIds, uniqueCustomer, workload } from './support.ts'

let t: TestSteward
let acme: string
let acmeToken: string
let globex: string
let globexToken: string

async function customerWithToken(label: string): Promise<[string, string]> {
  const id = uniqueCustomer(label)
  expect((await t.api('POST', '/v1/customers', { id, name: label })).status).toBe(201)
  const { token } = (await (await t.api('POST', `/v1/customers/${id}/tokens`, {})).json()) as {
    token: string
  }
  return [id, token]
}

beforeAll(async () => {
  t = await startTestSteward({ file: { ingest: ingestConfig({ heartbeatIntervalMs: 0 }) } })
  ;[acme, acmeToken] = await customerWithToken('acme')
  ;[globex, globexToken] = await customerWithToken('globex')
})
afterAll(async () => {
  await t?.stop()
})

type Problem = { detail: string; errors: { path: string; message: string }[] }

const sources = async (customerId: string, ids: string[]) =>
  (
    await t.deps.pool.query<{ event_id: string; source: string }>(
      'SELECT event_id, source FROM telemetry_outbox WHERE customer_id = $1 AND event_id = ANY($2) ORDER BY seq',
      [customerId, ids],
    )
  ).rows

describe('POST /v1/events refuses', () => {
  it('a request without a token (401)', async () => {
    const events = evidence(acme, 2)
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
    const own = evidence(acme, 3)
    const other = evidence('globex', 2)
    const res = await postEvents(t, JSON.stringify([...own, ...other]), { token: acmeToken })
    expect(res.status).toBe(403)
    const p = (await res.json()) as Problem
    expect(p.errors.map((e) => e.path)).toEqual(['3.customerId', '4.customerId'])
    expect(
      await storedIds(
        t.deps.pool,
        [...own, ...other].map((e) => e.eventId!),
      ),
    ).toBe(0)
  })

  it('a customer token sending factory-level events (customerId "")', async () => {
    const events = evidence('', 1)
    expect((await postEvents(t, JSON.stringify(events), { token: acmeToken })).status).toBe(403)
  })

  it('a customer token sending platform facts (403 naming index.type), even mixed with evidence', async () => {
    const facts = [
      ...workload(acme, 5).filter((e) => e.type === 'run' || e.type === 'job' || e.type === 'heartbeat'),
      {
        type: 'worker',
        eventId: randomUUID(),
        ts: new Date().toISOString(),
        action: 'lost',
        workerId: 'w',
        pool: 'default',
      },
      {
        type: 'recovery',
        eventId: randomUUID(),
        ts: new Date().toISOString(),
        recoveryKind: 'full_recovery',
        detectedAt: new Date(Date.now() - 60_000).toISOString(),
        recoveredAt: new Date().toISOString(),
      },
      {
        type: 'incident',
        eventId: randomUUID(),
        ts: new Date().toISOString(),
        action: 'triggered',
        incidentId: 'inc_forged',
        rule: 'probe_failures',
        severity: 'critical',
      },
    ]
    expect(facts.map((e) => e.type)).toEqual(['run', 'job', 'heartbeat', 'worker', 'recovery', 'incident'])
    const batch = [evidence(acme, 1)[0]!, ...facts]
    const res = await postEvents(t, JSON.stringify(batch), { token: acmeToken })
    expect(res.status).toBe(403)
    const p = (await res.json()) as Problem
    expect(p.errors.map((e) => e.path)).toEqual(['1.type', '2.type', '3.type', '4.type', '5.type', '6.type'])
    expect(p.errors[0]!.message).toMatch(/only probe, usage, api_request events/)
    expect(
      await storedIds(
        t.deps.pool,
        batch.map((e) => e.eventId!),
      ),
    ).toBe(0)
  })

  it('any sender using Steward’s id namespace (400 naming index.eventId), the admin too', async () => {
    const [event] = evidence(acme, 1)
    const reserved = { ...event, eventId: `steward:${randomUUID()}` }
    for (const token of [acmeToken, undefined]) {
      const res = await postEvents(t, JSON.stringify([reserved]), { token })
      expect(res.status).toBe(400)
      expect(((await res.json()) as Problem).errors).toEqual([
        expect.objectContaining({ path: '0.eventId', message: expect.stringMatching(/reserved/) }),
      ])
    }
  })
})

describe('event ids are per customer', () => {
  it('a customer cannot pre-empt another customer’s id: both events are stored', async () => {
    const id = `shared-${randomUUID()}`
    const [a] = evidence(acme, 1)
    const [g] = evidence(globex, 1)
    expect(
      await (await postEvents(t, JSON.stringify([{ ...a, eventId: id }]), { token: acmeToken })).json(),
    ).toEqual({
      accepted: 1,
      duplicates: 0,
    })
    expect(
      await (await postEvents(t, JSON.stringify([{ ...g, eventId: id }]), { token: globexToken })).json(),
    ).toEqual({ accepted: 1, duplicates: 0 })
    expect(await sources(acme, [id])).toEqual([{ event_id: id, source: 'customer' }])
    expect(await sources(globex, [id])).toEqual([{ event_id: id, source: 'customer' }])
    // The same customer sending it again: a duplicate, stored once.
    expect(
      await (await postEvents(t, JSON.stringify([{ ...a, eventId: id }]), { token: acmeToken })).json(),
    ).toEqual({
      accepted: 1,
      duplicates: 1,
    })
  })

  it('a customer cannot pre-empt one of Steward’s ids (such as an incident’s recovery event)', async () => {
    const incident = `inc_${randomUUID()}`
    // Deterministic ids, as src/incidents/effects.ts makes them: a customer may guess one...
    const guessed = `${incident}:recovery:${acme}`
    const [probe] = evidence(acme, 1)
    const res = await postEvents(t, JSON.stringify([{ ...probe, eventId: `steward:${guessed}` }]), {
      token: acmeToken,
    })
    expect(res.status).toBe(400)
    // ...and sending it without the prefix is its own event, not Steward's.
    expect(
      (await postEvents(t, JSON.stringify([{ ...probe, eventId: guessed }]), { token: acmeToken })).status,
    ).toBe(202)
    const real = await appendEvents(t.deps.pool, [
      {
        type: 'recovery',
        eventId: guessed,
        customerId: acme,
        recoveryKind: 'full_recovery',
        detectedAt: new Date(Date.now() - 60_000).toISOString(),
        recoveredAt: new Date().toISOString(),
      },
    ])
    expect(real).toMatchObject({ appended: 1, duplicates: 0 })
    expect(await sources(acme, [guessed, `steward:${guessed}`])).toEqual([
      { event_id: guessed, source: 'customer' },
      { event_id: `steward:${guessed}`, source: 'steward' },
    ])
  })
})

describe('POST /v1/events allows', () => {
  it('a customer token its own evidence and usage, and the admin any customer’s events of any type', async () => {
    const own = evidence(acme, 6)
    expect(new Set(own.map((e) => e.type))).toEqual(new Set(['probe', 'usage', 'api_request']))
    expect((await postEvents(t, JSON.stringify(own), { token: acmeToken })).status).toBe(202)
    const any = [...workload(globex, 6), ...workload('', 1)]
    expect((await postEvents(t, JSON.stringify(any))).status).toBe(202)
    expect(
      await storedIds(
        t.deps.pool,
        [...own, ...any].map((e) => e.eventId!),
      ),
    ).toBe(13)
    const ownIds = own.map((e) => e.eventId!)
    expect((await sources(acme, ownIds)).map((r) => r.source)).toEqual(own.map(() => 'customer'))
    const anyIds = any.map((e) => e.eventId!)
    expect((await sources(globex, anyIds)).map((r) => r.source)).toEqual(
      any.slice(0, 6).map(() => 'operator'),
    )
  })
})
