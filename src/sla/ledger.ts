// Corrections of closed credits as a ledger (docs/sla.md, "How each figure is computed —
// corrections"). A closed record (credits.ts) never changes; a correction is a new row.
//
// Guarantees:
// - every correction is an immutable row (a trigger refuses UPDATE and DELETE) with its reason,
//   its actor and the credit's net and state after it; corrections of one credit are serialised
//   (the record's row is locked) and numbered 1, 2, ... (unique per credit);
// - an impossible correction (voiding a void credit, reissuing a credit that is not void, an
//   amount below zero, a net above the month's fee, goodwill on a void credit) is refused with the
//   field named, and writes nothing;
// - the billing adjustment (when money moves), the customer notice and the resolution of the
//   credit's open late-data finding commit in the same transaction as the correction.
import type { Pool, Queryable } from '../db/postgres.ts'
import { transaction } from '../db/postgres.ts'
import { NotFoundError, ValidationError } from '../errors.ts'
import { queueCustomerNotification } from '../notify/index.ts'
import { resolveLateData } from './late-data.ts'
import { formatCents } from './money.ts'
import { firstDay, monthOf, nextMonth } from './months.ts'
import type { CreditAdjustment, CreditLedger, NewCreditAdjustment } from './schemas/ledger.ts'

const SQL = {
  lockCredit: `
    SELECT id, customer_id, to_char(month, 'YYYY-MM') AS month, credit_cents, fee_cents, currency
    FROM sla_credits WHERE id = $1 FOR UPDATE`,
  last: `SELECT seq, net_cents, status FROM sla_credit_adjustments WHERE credit_id = $1 ORDER BY seq DESC LIMIT 1`,
  insert: `
    INSERT INTO sla_credit_adjustments (credit_id, seq, customer_id, kind, amount_cents, net_cents, status, reason, actor)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id`,
  insertBilling: `
    INSERT INTO sla_billing_adjustments (credit_id, customer_id, billing_cycle, amount_cents, currency, description, kind, adjustment_id)
    VALUES ($1, $2, $3::date, $4, $5, $6, $7, $8)`,
  credits: `
    SELECT id, customer_id, to_char(month, 'YYYY-MM') AS month, credit_cents, currency
    FROM sla_credits WHERE id = ANY ($1::bigint[])`,
  adjustments: `
    SELECT a.id, a.credit_id, a.seq, a.customer_id, a.kind, a.amount_cents, a.net_cents, a.status, a.reason, a.actor,
           a.created_at, to_char(b.billing_cycle, 'YYYY-MM') AS billing_cycle
    FROM sla_credit_adjustments a LEFT JOIN sla_billing_adjustments b ON b.adjustment_id = a.id
    WHERE a.credit_id = ANY ($1::bigint[]) ORDER BY a.credit_id, a.seq`,
}

interface CreditRow {
  id: number
  customer_id: string
  month: string
  credit_cents: number
  currency: string
}

interface AdjustmentRow {
  id: number
  credit_id: number
  seq: number
  customer_id: string
  kind: CreditAdjustment['kind']
  amount_cents: number
  net_cents: number
  status: CreditAdjustment['status']
  reason: string
  actor: string
  created_at: Date
  billing_cycle: string | null
}

const toAdjustment = (r: AdjustmentRow): CreditAdjustment => ({
  id: Number(r.id),
  creditId: Number(r.credit_id),
  seq: r.seq,
  customerId: r.customer_id,
  kind: r.kind,
  amountCents: Number(r.amount_cents),
  netCents: Number(r.net_cents),
  status: r.status,
  reason: r.reason,
  actor: r.actor,
  createdAt: r.created_at.toISOString(),
  billingCycle: r.billing_cycle,
})

function ledgerOf(c: CreditRow, adjustments: CreditAdjustment[]): CreditLedger {
  const last = adjustments.at(-1)
  return {
    creditId: Number(c.id),
    customerId: c.customer_id,
    month: c.month,
    currency: c.currency,
    originalCents: Number(c.credit_cents),
    adjustments,
    netCents: last ? last.netCents : Number(c.credit_cents),
    status: last ? last.status : 'active',
  }
}

/** The ledgers of these credits (original, corrections in order, net), by credit id. */
export async function loadLedgers(db: Queryable, creditIds: number[]): Promise<Map<number, CreditLedger>> {
  if (!creditIds.length) return new Map()
  const [credits, adjustments] = await Promise.all([
    db.query<CreditRow>(SQL.credits, [creditIds]),
    db.query<AdjustmentRow>(SQL.adjustments, [creditIds]),
  ])
  const rows = adjustments.rows.map(toAdjustment)
  return new Map(
    credits.rows.map((c) => [
      Number(c.id),
      ledgerOf(
        c,
        rows.filter((a) => a.creditId === Number(c.id)),
      ),
    ]),
  )
}

const refuse = (path: string, message: string): never => {
  throw new ValidationError([{ path, message }], message, 'unprocessable')
}

/** What a correction does to a credit whose net is `net` in state `status`; refuses the impossible. */
function apply(
  input: NewCreditAdjustment,
  net: number,
  status: CreditLedger['status'],
  feeCents: number,
  creditId: number,
) {
  if (input.kind === 'void') {
    if (status === 'void') refuse('kind', `credit ${creditId} is already void`)
    return { amount: -net, net: 0, status: 'void' as const }
  }
  const { amountCents } = input
  if (input.kind === 'reissue') {
    if (status !== 'void') refuse('kind', `credit ${creditId} is not void: void it first, then reissue it`)
    if (amountCents < 0) refuse('amountCents', 'a reissued credit cannot be below zero')
    if (amountCents > feeCents)
      refuse('amountCents', `a reissued credit cannot exceed the month's fee (${feeCents} cents)`)
    return { amount: amountCents, net: amountCents, status: 'active' as const }
  }
  if (status === 'void') refuse('kind', `credit ${creditId} is void: reissue it instead`)
  if (amountCents <= 0) refuse('amountCents', 'a goodwill credit must be above zero')
  // A credit never exceeds what the customer paid for the month (as a reissue, and the credit
  // tiers' cap of 100%): more would be a refund, not a credit, and unbounded amounts lose cents.
  if (net + amountCents > feeCents)
    refuse(
      'amountCents',
      `the credit's net cannot exceed the month's fee (${feeCents} cents): at most ${feeCents - net} cents of goodwill`,
    )
  return { amount: amountCents, net: net + amountCents, status: 'active' as const }
}

/**
 * Records a correction of closed credit `creditId` by `actor`; returns the credit's ledger after it.
 * Money moves in the billing cycle after the month the correction is made in.
 */
export async function adjustCredit(
  pool: Pool,
  creditId: number,
  input: NewCreditAdjustment,
  actor: string,
  now = new Date(),
): Promise<CreditLedger> {
  return transaction(pool, async (db) => {
    const credit = (await db.query<CreditRow & { fee_cents: number }>(SQL.lockCredit, [creditId])).rows[0]
    if (!credit) throw new NotFoundError(`credit ${creditId}`)
    const last = (
      await db.query<{ seq: number; net_cents: number; status: 'active' | 'void' }>(SQL.last, [creditId])
    ).rows[0]
    const before = { net: Number(last?.net_cents ?? credit.credit_cents), status: last?.status ?? 'active' }
    const after = apply(input, before.net, before.status, Number(credit.fee_cents), creditId)
    const seq = (last?.seq ?? 0) + 1
    const { rows } = await db.query<{ id: number }>(SQL.insert, [
      creditId,
      seq,
      credit.customer_id,
      input.kind,
      after.amount,
      after.net,
      after.status,
      input.reason,
      actor,
    ])
    const id = rows[0]!.id
    const cycle = nextMonth(monthOf(now))
    if (after.amount !== 0) {
      // A credit lowers the bill (negative); taking it back raises it.
      await db.query(SQL.insertBilling, [
        creditId,
        credit.customer_id,
        firstDay(cycle),
        -after.amount,
        credit.currency,
        `SLA credit ${credit.month} ${input.kind} #${seq}: ${formatCents(after.amount)} ${credit.currency} (${input.reason})`,
        input.kind,
        id,
      ])
    }
    await resolveLateData(db, creditId, `adjusted: ${input.kind} #${seq} by ${actor}`)
    await queueCustomerNotification(db, {
      customerId: credit.customer_id,
      kind: 'sla.credit_adjusted',
      dedupKey: `sla:${credit.month}:adjustment:${seq}`,
      payload: {
        month: credit.month,
        creditId: Number(credit.id),
        adjustment: input.kind,
        amount: formatCents(after.amount),
        netCredit: formatCents(after.net),
        currency: credit.currency,
        reason: input.reason,
        billingCycle: after.amount !== 0 ? cycle.key : null,
        report: `/v1/sla/credits?month=${credit.month}&customerId=${credit.customer_id}&format=html`,
      },
    })
    return (await loadLedgers(db, [Number(credit.id)])).get(Number(credit.id))!
  })
}
