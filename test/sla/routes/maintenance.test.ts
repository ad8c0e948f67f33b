// GET and POST /v1/sla/maintenance: windows declared through the API are excluded from uptime;
// a window that ends before it starts is refused; only the admin declares one.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { TestSteward } from '../../helpers/app.ts'
import { type Json, json, startSlaSteward } from './steward.ts'

let s: TestSteward
let acmeToken: string

beforeAll(async () => {
  ;({ s, acmeToken } = await startSlaSteward())
})
afterAll(async () => {
  await s?.stop()
})

describe('what works', () => {
  it('takes maintenance windows through the API and excludes them', async () => {
    const res = await s.api('POST', '/v1/sla/maintenance', {
      start: '2025-09-01T00:00:00Z',
      end: '2025-09-01T01:00:00Z',
      reason: 'planned failover drill',
    })
    expect(res.status).toBe(201)
    // September (in service: the Steward's heartbeats) has 43,200 minutes; the window removes 60.
    const status = await json(await s.api('GET', '/v1/sla/status?month=2025-09&customerId=acme'))
    expect(status.customers[0].uptime).toMatchObject({ maintenanceMinutes: 60, eligibleMinutes: 43_140 })
    const list = await json(await s.api('GET', '/v1/sla/maintenance?month=2025-09', undefined, acmeToken))
    expect(list.items).toHaveLength(1)
  })
})

describe('what is refused', () => {
  it('refuses a maintenance window that ends before it starts, and stores nothing', async () => {
    const res = await s.api('POST', '/v1/sla/maintenance', {
      start: '2025-10-02T00:00:00Z',
      end: '2025-10-01T00:00:00Z',
      reason: 'x',
    })
    expect(res.status).toBe(400)
    expect((await json(res)).errors.map((e: Json) => e.path)).toContain('end')
    const { rows } = await s.deps.pool.query(
      `SELECT count(*)::int AS n FROM sla_maintenance_windows WHERE starts_at >= '2025-10-01'`,
    )
    expect(rows[0].n).toBe(0)
  })
})

describe('who is refused', () => {
  it('keeps declaring a maintenance window to the admin', async () => {
    const w = { start: '2025-10-01T00:00:00Z', end: '2025-10-01T01:00:00Z', reason: 'x' }
    expect((await s.api('POST', '/v1/sla/maintenance', w, acmeToken)).status).toBe(403)
  })
})
