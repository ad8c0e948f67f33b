// Maintenance windows of the config file: stored and judged (notice, cap) the first time Steward
// sees them, like the API's; a late one without an adjustment is refused and never applied; one
// with an adjustment is applied and audited; seeing the file again changes nothing.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { computeMonth } from '../../src/sla/index.ts'
import { maintenanceWindows, syncConfigMaintenance } from '../../src/sla/maintenance.ts'
import {
  addCustomers,
  heartbeats,
  insertEvents,
  openSlaEnv,
  parseMonth,
  range,
  type SlaTestEnv,
} from './golden.ts'

let env: SlaTestEnv
const march = parseMonth('2026-03')
beforeAll(async () => {
  env = await openSlaEnv({
    defaultPlan: { monthlyFee: 1000 },
    maintenance: [
      // Written into the file after the fact: late, no adjustment.
      { start: '2026-03-02T02:00:00Z', end: '2026-03-02T03:00:00Z', reason: 'db upgrade' },
      {
        start: '2026-03-03T02:00:00Z',
        end: '2026-03-03T03:00:00Z',
        reason: 'kernel patch',
        adjustment: { reason: 'emergency patch, announced on the status page at 01:30' },
        actor: 'ops-lead',
      },
    ],
  })
  await addCustomers(env.pool, ['acme'])
  // Down during both windows: 60 + 60 minutes without a heartbeat.
  const d2 = (Date.parse('2026-03-02T02:00:00Z') - march.start.getTime()) / 60_000
  const d3 = (Date.parse('2026-03-03T02:00:00Z') - march.start.getTime()) / 60_000
  await insertEvents(env.ch, heartbeats(march, new Set([...range(d2, 60), ...range(d3, 60)])))
})
afterAll(async () => {
  await env?.close()
})

describe('maintenance windows of the config file', () => {
  it('judges each when first seen: a late one without an adjustment is refused, one with it is audited', async () => {
    expect(await syncConfigMaintenance(env, new Date('2026-04-10T00:00:00Z'))).toBe(2)
    const ws = await maintenanceWindows(env.pool, march)
    expect(ws.map((w) => [w.reason, w.source, w.status, w.declaredBy])).toEqual([
      ['db upgrade', 'config', 'refused', 'config'],
      ['kernel patch', 'config', 'adjustment', 'config (ops-lead)'],
    ])
    expect(ws[0]!.declaredAt).toBe('2026-04-10T00:00:00.000Z')
    const { rows } = await env.pool.query(`SELECT actor, action, reason FROM sla_audit`)
    expect(rows).toEqual([
      {
        actor: 'config (ops-lead)',
        action: 'maintenance.adjustment',
        reason: 'emergency patch, announced on the status page at 01:30',
      },
    ])
  })

  it('applies only the adjustment: the refused window excludes nothing', async () => {
    const acme = (await computeMonth(env, march, ['acme'])).customers[0]!
    expect(acme.uptime).toMatchObject({ maintenanceMinutes: 60, downMinutes: 60 })
    expect(acme.maintenance.map((w) => w.status)).toEqual(['refused', 'adjustment'])
  })

  it('never judges a window again: seeing the file later adds and changes nothing', async () => {
    expect(await syncConfigMaintenance(env, new Date('2026-01-01T00:00:00Z'))).toBe(0)
    expect((await maintenanceWindows(env.pool, march)).map((w) => w.status)).toEqual([
      'refused',
      'adjustment',
    ])
  })
})
