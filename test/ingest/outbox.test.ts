// The outbox append and its dedup window, against the real PostgreSQL.
import { randomUUID } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Pool } from '../../src/db/postgres.ts'
import { transaction } from '../../src/db/postgres.ts'
import { appendEvents, outboxLag } from '../../src/ingest/index.ts'
import { pruneEventIds } from '../../src/ingest/outbox.ts'
import { createTestPool } from '../helpers/db.ts'
import { workload } from './support.ts'

let pool: Pool
beforeAll(async () => {
  ;({ pool } = await createTestPool())
})
afterAll(async () => {
  await pool?.end()
})

const age = (ids: string[], hours: number) =>
  pool.query(
    `UPDATE telemetry_event_ids SET seen_at = now() - make_interval(hours => $2) WHERE event_id = ANY($1)`,
    [ids, hours],
  )

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
})

describe('the dedup window', () => {
  it('forgets ids older than the window once shipped, never while they wait in the outbox', async () => {
    const waiting = workload('win', 2)
    const shipped = workload('win', 2)
    await appendEvents(pool, [...waiting, ...shipped])
    await pool.query('DELETE FROM telemetry_outbox WHERE event_id = ANY($1)', [shipped.map((e) => e.eventId)])
    const ids = [...waiting, ...shipped].map((e) => e.eventId!)
    await age(ids, 200)
    expect(await pruneEventIds(pool, 168)).toBe(2)
    // Within the window (or still waiting): dropped. Beyond it: accepted again, as documented.
    expect(await appendEvents(pool, waiting)).toMatchObject({ appended: 0, duplicates: 2 })
    expect(await appendEvents(pool, shipped)).toMatchObject({ appended: 2, duplicates: 0 })
  })

  it('keeps ids inside the window', async () => {
    const e = { type: 'probe' as const, eventId: randomUUID(), target: 'api', ok: true, latencyMs: 1 }
    await appendEvents(pool, [e])
    await age([e.eventId], 100)
    await pruneEventIds(pool, 168)
    expect(await appendEvents(pool, [e])).toMatchObject({ appended: 0, duplicates: 1 })
  })
})
