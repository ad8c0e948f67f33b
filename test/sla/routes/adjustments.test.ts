// POST /v1/sla/credits/{id}/adjustments: corrections of a closed credit as ledger rows (void,
// reissue, goodwill), the money they move, and how every report shows them; impossible
// corrections refused naming the field and changing nothing; only the admin corrects.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { chQuery } from '../../../src/db/clickhouse.ts'
import { monthOf, nextMonth } from '../../../src/sla/months.ts'
import type { TestSteward } from '../../helpers/app.ts'
import { type Json, json, startSlaSteward } from './steward.ts'

let s: TestSteward
let acmeToken: string
/** September 2025's closed credits: acme 10% (100.00), globex 25% (250.00) of 1,000.00 USD. */
const credit: Record<string, number> = {}
const cycle = nextMonth(monthOf(new Date())).key

beforeAll(async () => {
  ;({ s, acmeToken } = await startSlaSteward())
  expect((await s.api('POST', '/v1/sla/close?month=2025-09')).status).toBe(200)
  const { rows } = await s.deps.pool.query<{ id: string; customer_id: string }>(
    `SELECT id, customer_id FROM sla_credits WHERE month = '2025-09-01'`,
  )
  for (const r of rows) credit[r.customer_id] = Number(r.id)
})
afterAll(async () => {
  await s?.stop()
})

const adjust = (id: number, body: unknown, token?: string | null) =>
  s.api('POST', `/v1/sla/credits/${id}/adjustments`, body, token)

/** Every row the ledger could have written, to show a refusal changed nothing. */
const ledgerState = async () => {
  const { rows } = await s.deps.pool.query(
    `SELECT (SELECT count(*) FROM sla_credit_adjustments)::int AS adjustments,
            (SELECT count(*) FROM sla_billing_adjustments)::int AS billing,
            (SELECT count(*) FROM customer_notifications)::int AS notices`,
  )
  return rows[0]
}

describe('what works', () => {
  it('voids a credit, reissues it with a corrected amount and adds goodwill, each a new row with reason and actor', async () => {
    const voided = await adjust(credit.acme!, { kind: 'void', reason: 'late data: 3 more down minutes' })
    expect(voided.status).toBe(201)
    expect(await json(voided)).toMatchObject({
      creditId: credit.acme,
      customerId: 'acme',
      month: '2025-09',
      originalCents: 10_000,
      netCents: 0,
      status: 'void',
      adjustments: [
        {
          seq: 1,
          kind: 'void',
          amountCents: -10_000,
          netCents: 0,
          status: 'void',
          actor: 'admin',
          reason: 'late data: 3 more down minutes',
          billingCycle: cycle,
        },
      ],
    })
    const reissued = await json(
      await adjust(credit.acme!, { kind: 'reissue', amountCents: 12_345, reason: 'recomputed credit' }),
    )
    expect(reissued).toMatchObject({ netCents: 12_345, status: 'active' })
    const goodwill = await json(
      await adjust(credit.acme!, { kind: 'goodwill', amountCents: 655, reason: 'for the trouble' }),
    )
    expect(goodwill.adjustments.map((a: Json) => [a.seq, a.kind, a.amountCents, a.netCents])).toEqual([
      [1, 'void', -10_000, 0],
      [2, 'reissue', 12_345, 12_345],
      [3, 'goodwill', 655, 13_000],
    ])
    expect(goodwill).toMatchObject({ originalCents: 10_000, netCents: 13_000, status: 'active' })
    // The closed record itself never changed.
    const { rows } = await s.deps.pool.query('SELECT credit_cents FROM sla_credits WHERE id = $1', [
      credit.acme,
    ])
    expect(Number(rows[0].credit_cents)).toBe(10_000)
  })

  it('moves the money as billing adjustments: the credit, then each correction in the next cycle', async () => {
    const october = await json(
      await s.api('GET', '/v1/sla/billing-adjustments?cycle=2025-10&customerId=acme'),
    )
    expect(october.items.map((a: Json) => [a.kind, a.amountCents, a.amount, a.adjustmentId])).toEqual([
      ['credit', -10_000, '-100.00', null],
    ])
    const next = await json(await s.api('GET', `/v1/sla/billing-adjustments?cycle=${cycle}&customerId=acme`))
    expect(next.items.map((a: Json) => [a.kind, a.amountCents, a.amount])).toEqual([
      ['void', 10_000, '100.00'],
      ['reissue', -12_345, '-123.45'],
      ['goodwill', -655, '-6.55'],
    ])
    expect(next.items.every((a: Json) => typeof a.adjustmentId === 'number')).toBe(true)
  })

  it('shows the original, every correction and the net in the JSON, CSV and HTML reports and the status', async () => {
    const report = await json(await s.api('GET', '/v1/sla/credits?month=2025-09&customerId=acme'))
    expect(report.items[0]).toMatchObject({
      creditCents: 10_000,
      netCreditCents: 13_000,
      creditStatus: 'active',
    })
    expect(report.items[0].adjustments.map((a: Json) => a.kind)).toEqual(['void', 'reissue', 'goodwill'])
    const csv = await (await s.api('GET', '/v1/sla/credits?month=2025-09&format=csv')).text()
    const [head, ...rows] = csv.trim().split('\r\n')
    const col = (name: string) => head!.split(',').indexOf(name)
    const acme = rows.find((r) => r.startsWith('acme,'))!
    expect(acme).toContain('#1 ')
    expect(acme).toMatch(/void -100\.00 by admin: late data: 3 more down minutes \| #2 \S+ reissue 123\.45/)
    const globex = rows.find((r) => r.startsWith('globex,'))!.split(',')
    expect([
      globex[col('credit_amount')],
      globex[col('net_credit_amount')],
      globex[col('adjustments')],
    ]).toEqual(['250.00', '250.00', ''])
    const html = await (await s.api('GET', '/v1/sla/credits?month=2025-09&format=html')).text()
    expect(html).toContain('data-credit-amount="100.00"')
    expect(html).toContain('data-net-credit-amount="130.00"')
    expect(html).toContain('<td>#2</td>')
    expect(html).toContain('for the trouble')
    const status = await json(await s.api('GET', '/v1/sla/status?month=2025-09&customerId=acme'))
    expect(status.customers[0].credit).toMatchObject({ creditCents: 10_000, netCreditCents: 13_000 })
  })

  it("rewrites Grafana's copy: the credit row's cents and their corrections", async () => {
    const rows = await chQuery<{ c: string; a: string; amount: number }>(
      s.deps.clickhouse!,
      `SELECT toString(credit_cents) AS c, toString(adjustment_cents) AS a, credit_amount AS amount
       FROM sla_monthly FINAL WHERE month = toDate('2025-09-01') AND customer_id = 'acme' AND metric = 'credit'`,
    )
    expect(rows).toEqual([{ c: '10000', a: '3000', amount: 130 }])
  })

  it('tells the customer of each correction', async () => {
    const { rows } = await s.deps.pool.query(
      `SELECT dedup_key, payload FROM customer_notifications WHERE customer_id = 'acme' AND kind = 'sla.credit_adjusted'
       ORDER BY dedup_key`,
    )
    expect(rows.map((r) => [r.dedup_key, r.payload.adjustment, r.payload.netCredit])).toEqual([
      ['sla:2025-09:adjustment:1', 'void', '0.00'],
      ['sla:2025-09:adjustment:2', 'reissue', '123.45'],
      ['sla:2025-09:adjustment:3', 'goodwill', '130.00'],
    ])
  })

  it('keeps every ledger row immutable in the database', async () => {
    for (const table of ['sla_credit_adjustments', 'sla_billing_adjustments', 'sla_credits']) {
      await expect(s.deps.pool.query(`UPDATE ${table} SET customer_id = customer_id`)).rejects.toThrow(
        /immutable/,
      )
      await expect(s.deps.pool.query(`DELETE FROM ${table}`)).rejects.toThrow(/immutable/)
    }
    // A void that would lower the bill, or a second credit row for a credit, is refused by the table itself.
    await expect(
      s.deps.pool.query(
        `INSERT INTO sla_billing_adjustments (credit_id, customer_id, billing_cycle, amount_cents, currency, description, kind)
         VALUES ($1, 'acme', '2025-10-01', -1, 'USD', 'x', 'credit')`,
        [credit.acme],
      ),
    ).rejects.toThrow(/one_per_credit/)
  })
})

describe('what is refused', () => {
  it.each([
    [
      'voiding a void credit',
      'globex',
      [{ kind: 'void', reason: 'a' }],
      { kind: 'void', reason: 'again' },
      'kind',
    ],
    [
      'reissuing a credit that is not void',
      'globex',
      [],
      { kind: 'reissue', amountCents: 100, reason: 'r' },
      'kind',
    ],
    [
      "reissuing a void credit's amount below zero",
      'globex',
      [{ kind: 'void', reason: 'a' }],
      { kind: 'reissue', amountCents: -1, reason: 'r' },
      'amountCents',
    ],
    [
      'reissuing more than the month’s fee',
      'globex',
      [{ kind: 'void', reason: 'a' }],
      { kind: 'reissue', amountCents: 100_001, reason: 'r' },
      'amountCents',
    ],
    ['goodwill of nothing', 'acme', [], { kind: 'goodwill', amountCents: 0, reason: 'r' }, 'amountCents'],
    [
      'goodwill that takes the credit past the month’s fee',
      'acme',
      [],
      { kind: 'goodwill', amountCents: 2 ** 53 - 1, reason: 'r' },
      'amountCents',
    ],
    [
      'goodwill on a void credit',
      'globex',
      [{ kind: 'void', reason: 'a' }],
      { kind: 'goodwill', amountCents: 5, reason: 'r' },
      'kind',
    ],
  ])('refuses %s with 422 naming the field, and changes nothing', async (_what, who, setup, body, field) => {
    // Bring the credit to the state the case needs: void, or active again (reissued).
    const { rows } = await s.deps.pool.query(
      'SELECT status FROM sla_credit_adjustments WHERE credit_id = $1 ORDER BY seq DESC LIMIT 1',
      [credit[who]],
    )
    const isVoid = rows[0]?.status === 'void'
    const wantVoid = setup.length > 0
    if (isVoid && !wantVoid)
      expect(
        (await adjust(credit[who]!, { kind: 'reissue', amountCents: 25_000, reason: 'restore' })).status,
      ).toBe(201)
    if (!isVoid && wantVoid) expect((await adjust(credit[who]!, setup[0])).status).toBe(201)
    const before = await ledgerState()
    const res = await adjust(credit[who]!, body)
    expect(res.status).toBe(422)
    expect(res.headers.get('content-type')).toMatch(/problem\+json/)
    expect((await json(res)).errors.map((e: Json) => e.path)).toEqual([field])
    expect(await ledgerState()).toEqual(before)
  })

  it.each([
    [{ kind: 'void' }, 'reason'],
    [{ kind: 'void', reason: '' }, 'reason'],
    [{ kind: 'refund', reason: 'r' }, 'kind'],
    [{ kind: 'reissue', reason: 'r' }, 'amountCents'],
    [{ kind: 'goodwill', amountCents: 1.5, reason: 'r' }, 'amountCents'],
  ])('refuses %j with 400 naming %s, and changes nothing', async (body, field) => {
    const before = await ledgerState()
    const res = await adjust(credit.acme!, body)
    expect(res.status).toBe(400)
    expect((await json(res)).errors.map((e: Json) => e.path)).toContain(field)
    expect(await ledgerState()).toEqual(before)
  })

  it('answers 400 for an id that is not a credit id and 404 for an unknown credit', async () => {
    const bad = await s.api('POST', '/v1/sla/credits/abc/adjustments', { kind: 'void', reason: 'r' })
    expect(bad.status).toBe(400)
    expect((await json(bad)).errors.map((e: Json) => e.path)).toEqual(['param.id'])
    expect((await adjust(999_999, { kind: 'void', reason: 'r' })).status).toBe(404)
  })
})

describe('who is refused', () => {
  it('refuses a customer token, even for its own credit, and a request without a token; nothing changes', async () => {
    const before = await ledgerState()
    expect(
      (await adjust(credit.acme!, { kind: 'goodwill', amountCents: 100_000, reason: 'me' }, acmeToken))
        .status,
    ).toBe(403)
    expect((await adjust(credit.acme!, { kind: 'void', reason: 'r' }, null)).status).toBe(401)
    expect(await ledgerState()).toEqual(before)
  })
})
