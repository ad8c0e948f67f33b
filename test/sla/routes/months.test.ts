// Held months end to end: October 2025 was served all month (the witness) but ClickHouse holds no
// signal of it (telemetry lost). The close holds it instead of reading the silence as downtime; the
// hold shows in /v1/sla/status, the credit report and /readyz, opens an operator incident, and an
// admin releases it with a reason (audited), which closes the month at once.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { IncidentsModule } from '../../../src/incidents/index.ts'
import type { TestSteward } from '../../helpers/app.ts'
import { witnessSpan } from '../golden.ts'
import { type Json, json, startSlaSteward } from './steward.ts'

let s: TestSteward
let acmeToken: string
const incidents = () => s.modules.find((m) => m.name === 'incidents') as IncidentsModule

beforeAll(async () => {
  ;({ s, acmeToken } = await startSlaSteward())
  await witnessSpan(s.deps.pool, '2025-10-01T00:00:00Z', '2025-11-01T00:00:00Z')
})
afterAll(async () => {
  await s?.stop()
})

describe('what works', () => {
  it('holds a month whose telemetry is missing for minutes the witness saw served, and issues nothing', async () => {
    const res = await s.api('POST', '/v1/sla/close?month=2025-10')
    expect(res.status).toBe(200)
    const body = await json(res)
    expect(body).toMatchObject({ month: '2025-10', status: 'held', computed: 0, issued: 0 })
    expect(body.reason).toMatch(/44640 minutes served \(witness\) have no signal in ClickHouse/)
    expect(body.hold).toMatchObject({ status: 'held', unmeasuredMinutes: 44_640, releasedAt: null })
    expect(body.hold.periods).toEqual([
      { start: '2025-10-01T00:00:00.000Z', end: '2025-11-01T00:00:00.000Z', minutes: 44_640 },
    ])
    const { rows } = await s.deps.pool.query(`SELECT count(*)::int AS n FROM sla_credits`)
    expect(rows[0].n).toBe(0)
  })

  it('shows the hold in the status, the credit report and /readyz; the silence is not downtime', async () => {
    const status = await json(await s.api('GET', '/v1/sla/status?month=2025-10', undefined, acmeToken))
    expect(status.hold).toMatchObject({ month: '2025-10', status: 'held' })
    expect(status.customers[0].uptime).toMatchObject({ unmeasuredMinutes: 44_640, downMinutes: 0 })
    const report = await json(await s.api('GET', '/v1/sla/credits?month=2025-10'))
    expect(report.hold.status).toBe('held')
    expect(report.items.map((i: Json) => i.status)).toEqual(['held', 'held'])
    const html = await (await s.api('GET', '/v1/sla/credits?month=2025-10&format=html')).text()
    expect(html).toContain("44640 minutes that Steward's witness saw served have no telemetry")
    expect(html).toMatch(/Held since \S+: /)
    const ready = await json(await s.api('GET', '/readyz', undefined, null))
    expect(ready.sla).toMatchObject({ heldMonths: ['2025-10'] })
    expect(Date.parse(ready.sla.witnessLastBeat)).not.toBeNaN()
  })

  it('raises an operator incident that tells no customer', async () => {
    const summary = await incidents().evaluate()
    expect(summary.rules.find((r) => r.rule === 'sla_month_held')).toMatchObject({
      ok: true,
      firing: ['sla:2025-10'],
    })
    // Other rules may fire too (nothing served here since October: uptime_burn judges that down).
    const { rows: held } = await s.deps.pool.query(
      `SELECT id FROM incidents WHERE rule = 'sla_month_held' AND id = ANY($1)`,
      [summary.opened],
    )
    expect(held).toHaveLength(1)
    const incident = await json(await s.api('GET', `/v1/incidents/${held[0].id}`))
    expect(incident).toMatchObject({ rule: 'sla_month_held', scope: 'sla:2025-10', customerIds: [] })
    const { rows } = await s.deps.pool.query(
      `SELECT count(*)::int AS n FROM customer_notifications WHERE dedup_key LIKE $1`,
      [`incident:${held[0].id}:%`],
    )
    expect(rows[0].n).toBe(0)
  })

  it('lets an admin release it with a reason, audited, and closes the month at once', async () => {
    const res = await s.api('POST', '/v1/sla/months/2025-10/release', {
      reason: 'ClickHouse volume lost on 2025-11-02; restored backup has no October telemetry',
      actor: 'jane',
    })
    expect(res.status).toBe(200)
    const body = await json(res)
    expect(body.hold).toMatchObject({
      status: 'released',
      releasedBy: 'admin (jane)',
      releaseReason: 'ClickHouse volume lost on 2025-11-02; restored backup has no October telemetry',
    })
    expect(body.close).toMatchObject({ status: 'closed', computed: 2, issued: 2 })
    // Every October minute was unmeasured: nothing eligible, nothing down, no credit.
    const report = await json(await s.api('GET', '/v1/sla/credits?month=2025-10'))
    expect(report.items.map((i: Json) => [i.status, i.creditPercent])).toEqual([
      ['closed', 0],
      ['closed', 0],
    ])
    expect(report.items[0].figures.uptime).toMatchObject({ eligibleMinutes: 0, unmeasuredMinutes: 44_640 })
    const audit = await json(await s.api('GET', '/v1/sla/audit?subject=month:'))
    expect(audit.items).toMatchObject([
      {
        actor: 'admin (jane)',
        action: 'month.release',
        subject: 'month:2025-10',
        reason: 'ClickHouse volume lost on 2025-11-02; restored backup has no October telemetry',
        detail: { unmeasuredMinutes: 44_640 },
      },
    ])
    await expect(s.deps.pool.query(`DELETE FROM sla_audit`)).rejects.toThrow(/append-only/)
    expect((await json(await s.api('GET', '/readyz', undefined, null))).sla.heldMonths).toEqual([])
  })

  it('resolves the operator incident once the month is released', async () => {
    const later = new Date(Date.now() + 11 * 60_000)
    await incidents().evaluate()
    const summary = await incidents().evaluate(later)
    expect(summary.resolved).toHaveLength(1)
  })
})

describe('what is refused', () => {
  it('refuses a release without a reason, naming the field, and changes nothing', async () => {
    const res = await s.api('POST', '/v1/sla/months/2025-10/release', { actor: 'jane' })
    expect(res.status).toBe(400)
    expect((await json(res)).errors.map((e: Json) => e.path)).toContain('reason')
  })

  it('answers 404 for a month that was never held and 409 for one released already', async () => {
    expect((await s.api('POST', '/v1/sla/months/2025-09/release', { reason: 'no hold here' })).status).toBe(
      404,
    )
    expect((await s.api('POST', '/v1/sla/months/2025-10/release', { reason: 'once more' })).status).toBe(409)
    const { rows } = await s.deps.pool.query(`SELECT count(*)::int AS n FROM sla_audit`)
    expect(rows[0].n).toBe(1)
  })

  it('refuses a month that is not YYYY-MM', async () => {
    const res = await s.api('POST', '/v1/sla/months/2025-1/release', { reason: 'typo month' })
    expect(res.status).toBe(400)
    expect((await json(res)).errors.map((e: Json) => e.path)).toContain('param.month')
  })
})

describe('who is refused', () => {
  it('keeps the audit log to the admin', async () => {
    expect((await s.api('GET', '/v1/sla/audit', undefined, acmeToken)).status).toBe(403)
  })

  it('keeps releasing a month to the admin', async () => {
    const res = await s.api('POST', '/v1/sla/months/2025-10/release', { reason: 'mine now' }, acmeToken)
    expect(res.status).toBe(403)
    expect((await s.api('POST', '/v1/sla/months/2025-10/release', { reason: 'x y z' }, null)).status).toBe(
      401,
    )
  })
})
