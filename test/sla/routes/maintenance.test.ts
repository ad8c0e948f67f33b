// GET, POST and DELETE /v1/sla/maintenance: a window declared with notice is excluded from uptime;
// a late one (September 2025, declared now) or one over the plan's cap is refused unless entered as
// an adjustment with a reason (audited, shown); a window is cancelled, never deleted; only the
// admin declares or cancels one.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { TestSteward } from '../../helpers/app.ts'
import { type Json, json, startSlaSteward } from './steward.ts'

let s: TestSteward
let acmeToken: string
const DAY = 86_400_000
/** A window starting `days` from now, `minutes` long. */
const ahead = (days: number, minutes: number, reason = 'planned failover drill') => {
  const start = Math.floor((Date.now() + days * DAY) / 3_600_000) * 3_600_000
  return {
    start: new Date(start).toISOString(),
    end: new Date(start + minutes * 60_000).toISOString(),
    reason,
  }
}

beforeAll(async () => {
  ;({ s, acmeToken } = await startSlaSteward())
})
afterAll(async () => {
  await s?.stop()
})

const windows = async () =>
  (await s.deps.pool.query(`SELECT count(*)::int AS n FROM sla_maintenance_windows`)).rows[0].n as number

describe('what works', () => {
  it('takes a window declared with notice as planned, and excludes its minutes', async () => {
    const w = ahead(4, 60)
    const res = await s.api('POST', '/v1/sla/maintenance', w)
    expect(res.status).toBe(201)
    expect(await json(res)).toMatchObject({ ...w, status: 'planned', declaredBy: 'admin', adjustment: null })
    // Its minutes have not come yet: the month's figures list it, and exclude it once they do.
    const month = w.start.slice(0, 7)
    const status = await json(await s.api('GET', `/v1/sla/status?month=${month}&customerId=acme`))
    expect(status.customers[0].maintenance.map((x: Json) => [x.start, x.status])).toContainEqual([
      w.start,
      'planned',
    ])
  })

  it('enters a late window as an audited adjustment with its reason, and shows it', async () => {
    const res = await s.api('POST', '/v1/sla/maintenance', {
      start: '2025-09-01T00:00:00Z',
      end: '2025-09-01T01:00:00Z',
      reason: 'emergency database failover',
      adjustment: { reason: 'declared after the fact: the failover was unplanned but announced at 23:50' },
      actor: 'jane',
    })
    expect(res.status).toBe(201)
    const w = await json(res)
    expect(w).toMatchObject({
      status: 'adjustment',
      declaredBy: 'admin (jane)',
      adjustment: { kinds: ['late'], reason: expect.stringMatching(/^declared after the fact/) },
    })
    // September (in service: the Steward's heartbeats) has 43,200 minutes; the window removes 60.
    const status = await json(await s.api('GET', '/v1/sla/status?month=2025-09&customerId=acme'))
    expect(status.customers[0].uptime).toMatchObject({ maintenanceMinutes: 60, eligibleMinutes: 43_140 })
    const list = await json(await s.api('GET', '/v1/sla/maintenance?month=2025-09', undefined, acmeToken))
    expect(list.items.map((x: Json) => [x.id, x.status])).toEqual([[w.id, 'adjustment']])
    const audit = await json(await s.api('GET', `/v1/sla/audit?subject=maintenance:${w.id}`))
    expect(audit.items).toMatchObject([
      { action: 'maintenance.adjustment', actor: 'admin (jane)', detail: { kinds: ['late'] } },
    ])
    const html = await (
      await s.api('GET', '/v1/sla/credits?month=2025-09&customerId=acme&format=html')
    ).text()
    expect(html).toContain('adjustment (late): declared after the fact')
  })

  it('cancels a window: kept, marked with who and why, audited, no longer excluded', async () => {
    const w = await json(await s.api('POST', '/v1/sla/maintenance', ahead(5, 30, 'cache rebuild')))
    const res = await s.api('DELETE', `/v1/sla/maintenance/${w.id}`, { reason: 'moved to next week' })
    expect(res.status).toBe(200)
    expect(await json(res)).toMatchObject({
      id: w.id,
      status: 'cancelled',
      cancelledBy: 'admin',
      cancelReason: 'moved to next week',
    })
    const month = w.start.slice(0, 7)
    const listed = await json(await s.api('GET', `/v1/sla/maintenance?month=${month}`))
    expect(listed.items.find((x: Json) => x.id === w.id).status).toBe('cancelled')
    await expect(
      s.deps.pool.query(`DELETE FROM sla_maintenance_windows WHERE id = $1`, [w.id]),
    ).rejects.toThrow(/cancelled, not deleted/)
    const audit = await json(await s.api('GET', `/v1/sla/audit?subject=maintenance:${w.id}`))
    expect(audit.items.map((x: Json) => x.action)).toEqual(['maintenance.cancel'])
  })
})

describe('what is refused', () => {
  it('refuses a late window without an adjustment, naming start, and stores nothing', async () => {
    const before = await windows()
    const res = await s.api('POST', '/v1/sla/maintenance', {
      start: new Date(Date.now() + 3_600_000).toISOString(),
      end: new Date(Date.now() + 7_200_000).toISOString(),
      reason: 'hotfix',
    })
    expect(res.status).toBe(422)
    const body = await json(res)
    expect(body.errors).toMatchObject([
      { path: 'start', message: expect.stringMatching(/needs 72 h notice/) },
    ])
    expect(await windows()).toBe(before)
  })

  it("refuses a window over the plan's monthly cap (240 min) without an adjustment, naming end", async () => {
    const before = await windows()
    // Far ahead, in a month of its own: the adjustment below counts towards that month's cap.
    const res = await s.api('POST', '/v1/sla/maintenance', ahead(70, 300, 'long migration'))
    expect(res.status).toBe(422)
    expect((await json(res)).errors.map((e: Json) => e.path)).toEqual(['end', 'end'])
    expect(await windows()).toBe(before)
    const adjusted = await s.api('POST', '/v1/sla/maintenance', {
      ...ahead(70, 300, 'long migration'),
      adjustment: { reason: 'agreed with both customers on the 12th' },
    })
    expect((await json(adjusted)).adjustment).toMatchObject({ kinds: ['over_cap'] })
  })

  it('refuses a maintenance window that ends before it starts, and stores nothing', async () => {
    const before = await windows()
    const res = await s.api('POST', '/v1/sla/maintenance', {
      start: '2025-10-02T00:00:00Z',
      end: '2025-10-01T00:00:00Z',
      reason: 'x',
    })
    expect(res.status).toBe(400)
    expect((await json(res)).errors.map((e: Json) => e.path)).toContain('end')
    expect(await windows()).toBe(before)
  })

  it('refuses a window outside the months Steward holds (1970-01 to 2105-12), naming the field, and stores nothing', async () => {
    const before = await windows()
    const adjustment = { reason: 'declared late on purpose' }
    for (const [start, end, field] of [
      ['0000-01-01T00:00:00Z', '2025-09-20T01:00:00Z', 'start'],
      ['1969-12-31T23:00:00Z', '1970-01-01T01:00:00Z', 'start'],
      ['1970-01-01T00:30:00+01:00', '1970-01-01T02:00:00Z', 'start'],
      ['2105-12-31T23:00:00Z', '2106-01-01T00:00:00Z', 'end'],
      ['2025-09-20T00:00:00Z', '9999-12-31T23:59:59Z', 'end'],
    ]) {
      const res = await s.api('POST', '/v1/sla/maintenance', { start, end, reason: 'x', adjustment })
      expect(res.status, `${start} – ${end}`).toBe(400)
      expect((await json(res)).errors.map((e: Json) => e.path)).toEqual([field])
    }
    expect(await windows()).toBe(before)
  })

  it('answers 404 for an unknown window, 409 for one cancelled already, 400 without a reason', async () => {
    expect((await s.api('DELETE', '/v1/sla/maintenance/999999', { reason: 'typo fix' })).status).toBe(404)
    const w = await json(await s.api('POST', '/v1/sla/maintenance', ahead(6, 10)))
    expect((await s.api('DELETE', `/v1/sla/maintenance/${w.id}`, {})).status).toBe(400)
    expect((await s.api('DELETE', `/v1/sla/maintenance/${w.id}`, { reason: 'first' })).status).toBe(200)
    expect((await s.api('DELETE', `/v1/sla/maintenance/${w.id}`, { reason: 'again' })).status).toBe(409)
  })
})

describe('who is refused', () => {
  it('keeps declaring and cancelling a maintenance window to the admin', async () => {
    expect((await s.api('POST', '/v1/sla/maintenance', ahead(7, 10), acmeToken)).status).toBe(403)
    const w = await json(await s.api('POST', '/v1/sla/maintenance', ahead(8, 10)))
    expect((await s.api('DELETE', `/v1/sla/maintenance/${w.id}`, { reason: 'mine' }, acmeToken)).status).toBe(
      403,
    )
  })
})
