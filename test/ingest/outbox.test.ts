// The outbox append and its dedup window, against the real PostgreSQL.
import { randomUUID } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Pool } from '../../src/db/postgres.ts'
import { transaction } from '../../src/db/postgres.ts'
import { appendEvents, outboxLag, TelemetryEvent } from '../../src/ingest/index.ts'
import { appendValidEvents, pruneEventIds } from '../../src/ingest/outbox.ts'
import { createTestPool } from '../helpers/db.ts'
import { workload } from './support.ts'

let pool: Pool
beforeAll(async () => {
  ;({ pool } = await createTestPool())
})
afterAll(async () => {
  await pool?.end()
})

/** Steward's own ids as stored: in the reserved namespace. */
const stored = (ids: string[]) => ids.map((id) => `steward:${id}`)

const age = (ids: string[], hours: number, table = 'telemetry_event_ids') =>
  pool.query(`UPDATE ${table} SET seen_at = now() - make_interval(hours => $2) WHERE event_id = ANY($1)`, [
    ids,
    hours,
  ])

/** A probe event of `customerId` as HTTP ingest hands it over (validated, id as sent). */
const probe = (customerId: string, eventId = randomUUID()) =>
  TelemetryEvent.parse({
    type: 'probe',
    eventId,
    ts: new Date().toISOString(),
    customerId,
    target: 'api',
    ok: true,
    latencyMs: 1,
  })

describe('appendEvents', () => {
  it('fills eventId and ts when absent and validates every event', async () => {
    await appendEvents(pool, [{ type: 'probe', target: 'api', ok: true, latencyMs: 3 }])
    await expect(
      appendEvents(pool, [{ type: 'probe', target: 'api', ok: 'yes', latencyMs: 3 } as never]),
    ).rejects.toThrow()
    expect((await outboxLag(pool)).backlog).toBe(1)
  })

  it('commits and rolls back with the caller’s transaction', async () => {
    const before = (await outboxLag(pool)).backlog
    const events = workload('tx', 2)
    await expect(
      transaction(pool, async (tx) => {
        await appendEvents(tx, events)
        throw new Error('state change failed')
      }),
    ).rejects.toThrow()
    expect((await outboxLag(pool)).backlog).toBe(before)
    // The rolled-back ids are not remembered: the retried state change records them.
    expect(await appendEvents(pool, events)).toMatchObject({ appended: 2, duplicates: 0 })
  })

  it('puts Steward’s own ids in the reserved namespace, and records them as said by Steward', async () => {
    const id = randomUUID()
    await appendEvents(pool, [
      { type: 'probe', eventId: id, target: 'api', ok: true, latencyMs: 1 },
      { type: 'probe', eventId: `steward:${id}-2`, target: 'api', ok: true, latencyMs: 1 },
    ])
    const { rows } = await pool.query(
      `SELECT event_id, body->>'eventId' AS body_id, source FROM telemetry_outbox
       WHERE event_id = ANY($1) ORDER BY seq`,
      [[`steward:${id}`, `steward:${id}-2`]],
    )
    expect(rows).toEqual([
      { event_id: `steward:${id}`, body_id: `steward:${id}`, source: 'steward' },
      { event_id: `steward:${id}-2`, body_id: `steward:${id}-2`, source: 'steward' },
    ])
  })
})

describe('event ids per customer', () => {
  it('keeps one customer’s id from pre-empting another customer’s (or the factory’s) event', async () => {
    const id = randomUUID()
    const r = await appendValidEvents(
      pool,
      [probe('acme', id), probe('globex', id), probe('', id)],
      'operator',
    )
    expect(r).toMatchObject({ appended: 3, duplicates: 0 })
    expect(await appendValidEvents(pool, [probe('acme', id)], 'customer')).toMatchObject({
      appended: 0,
      duplicates: 1,
    })
  })

  it('records each event’s source, one per event when a write carries several senders', async () => {
    const a = probe('acme')
    const b = probe('acme')
    await appendValidEvents(pool, [a, b], ['customer', 'operator'])
    const { rows } = await pool.query(
      'SELECT event_id, source FROM telemetry_outbox WHERE event_id = ANY($1) ORDER BY seq',
      [[a.eventId, b.eventId]],
    )
    expect(rows).toEqual([
      { event_id: a.eventId, source: 'customer' },
      { event_id: b.eventId, source: 'operator' },
    ])
  })

  it('still drops an id accepted before ids were per customer, until the window forgets it', async () => {
    const id = randomUUID()
    await pool.query('INSERT INTO telemetry_event_ids_legacy (event_id) VALUES ($1)', [id])
    expect(await appendValidEvents(pool, [probe('acme', id)], 'customer')).toMatchObject({ appended: 0 })
    await age([id], 200, 'telemetry_event_ids_legacy')
    expect(await pruneEventIds(pool, 168)).toBeGreaterThanOrEqual(1)
    expect(await appendValidEvents(pool, [probe('acme', id)], 'customer')).toMatchObject({ appended: 1 })
  })
})

describe('the dedup window', () => {
  it('forgets ids older than the window once shipped, never while they wait in the outbox', async () => {
    const waiting = workload('win', 2)
    const shipped = workload('win', 2)
    await appendEvents(pool, [...waiting, ...shipped])
    await pool.query('DELETE FROM telemetry_outbox WHERE event_id = ANY($1)', [
      stored(shipped.map((e) => e.eventId!)),
    ])
    await age(stored([...waiting, ...shipped].map((e) => e.eventId!)), 200)
    expect(await pruneEventIds(pool, 168)).toBe(2)
    // Within the window (or still waiting): dropped. Beyond it: accepted again, as documented.
    expect(await appendEvents(pool, waiting)).toMatchObject({ appended: 0, duplicates: 2 })
    expect(await appendEvents(pool, shipped)).toMatchObject({ appended: 2, duplicates: 0 })
  })

  it('keeps ids inside the window', async () => {
    const e = { type: 'probe' as const, eventId: randomUUID(), target: 'api', ok: true, latencyMs: 1 }
    await appendEvents(pool, [e])
    await age(stored([e.eventId]), 100)
    await pruneEventIds(pool, 168)
    expect(await appendEvents(pool, [e])).toMatchObject({ appended: 0, duplicates: 1 })
  })
})
