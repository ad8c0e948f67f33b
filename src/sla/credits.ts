// Immutable monthly credit records (PostgreSQL is the source of truth), their billing adjustments
// and customer notices, and their copy in ClickHouse `sla_monthly` for Grafana.
//
// Guarantees:
// - one record per (customer, month), ever: the insert is ON CONFLICT DO NOTHING on that unique
//   key, so a second or concurrent close issues nothing twice; a trigger refuses UPDATE/DELETE;
// - the billing adjustment and the customer notice commit in the same transaction as the record
//   that caused them, and only the transaction that inserted the record writes them;
// - billed and credited amounts are integer cents (policy.ts rounds once per customer-month);
//   corrections are ledger rows of their own (ledger.ts), never changes to a record;
// - the ClickHouse copy is derived from the records and their ledgers and written idempotently
//   (ReplacingMergeTree keyed by customer, month, metric); a failed write is retried by the next
//   close run.
import { createHash } from 'node:crypto'
import type { ClickHouseClient } from '../db/clickhouse.ts'
import type { Pool, Queryable } from '../db/postgres.ts'
import { transaction } from '../db/postgres.ts'
import { queueCustomerNotification } from '../notify/index.ts'
import { formatCents } from './money.ts'
import { firstDay, type Month, nextMonth } from './months.ts'
import type { BillingAdjustment, CreditRecord } from './schemas/credits.ts'
import type { CustomerMonth, TierHit } from './schemas/figures.ts'
import type { SlaNotice } from './schemas/notices.ts'

const SQL = {
  insertCredit: `
    INSERT INTO sla_credits (customer_id, month, plan_version, credit_percent, fee_cents, credit_cents,
                             currency, tiers, inputs, inputs_sha256, computed_at)
    VALUES ($1, $2::date, $3, $4, $5, $6, $7, $8, $9, $10, $11)
    ON CONFLICT (customer_id, month) DO NOTHING RETURNING id`,
  insertAdjustment: `
    INSERT INTO sla_billing_adjustments (credit_id, customer_id, billing_cycle, amount_cents, currency, description, kind)
    VALUES ($1, $2, $3::date, $4, $5, $6, 'credit')`,
  listCredits: `
    SELECT id, customer_id, to_char(month, 'YYYY-MM') AS month, plan_version, credit_percent::text, fee_cents,
           credit_cents, currency, tiers, inputs, inputs_sha256, computed_at, created_at
    FROM sla_credits WHERE month = $1::date AND ($2::text IS NULL OR customer_id = $2) ORDER BY customer_id`,
  // A customer's closed months, newest first (without the figures: the history lists them).
  customerCredits: `
    SELECT id, customer_id, to_char(month, 'YYYY-MM') AS month, plan_version, credit_percent::text, fee_cents,
           credit_cents, currency, tiers, inputs_sha256, computed_at, created_at
    FROM sla_credits WHERE customer_id = $1 ORDER BY month DESC LIMIT $2`,
  creditedCustomers: 'SELECT customer_id FROM sla_credits WHERE month = $1::date',
  listAdjustments: `
    SELECT id, credit_id, adjustment_id, kind, customer_id, to_char(billing_cycle, 'YYYY-MM') AS cycle, amount_cents,
           currency, description
    FROM sla_billing_adjustments WHERE billing_cycle = $1::date AND ($2::text IS NULL OR customer_id = $2)
    ORDER BY customer_id, id`,
  customerAdjustments: `
    SELECT id, credit_id, adjustment_id, kind, customer_id, to_char(billing_cycle, 'YYYY-MM') AS cycle, amount_cents,
           currency, description
    FROM sla_billing_adjustments WHERE customer_id = $1 AND credit_id = ANY ($2::bigint[])
    ORDER BY billing_cycle DESC, id`,
}

/** JSON with object keys sorted: the same figures always hash the same (jsonb reorders keys). */
export function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`
  if (v && typeof v === 'object') {
    const entries = Object.entries(v as Record<string, unknown>)
      .filter(([, x]) => x !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    return `{${entries.map(([k, x]) => `${JSON.stringify(k)}:${canonicalJson(x)}`).join(',')}}`
  }
  return JSON.stringify(v)
}

export const inputsHash = (inputs: unknown) =>
  createHash('sha256').update(canonicalJson(inputs)).digest('hex')

/** Writes the record (and its adjustment and notice) unless one exists; true when this call wrote it. */
export async function issueCredit(pool: Pool, m: CustomerMonth, month: Month): Promise<boolean> {
  const e = m.evaluation
  return transaction(pool, async (db) => {
    const { rows } = await db.query<{ id: number }>(SQL.insertCredit, [
      m.customerId,
      firstDay(month),
      m.plan.version,
      e.creditPercent,
      e.feeCents,
      e.creditCents,
      e.currency,
      JSON.stringify(e.tiers),
      JSON.stringify(m),
      inputsHash(m),
      m.computedAt,
    ])
    const id = rows[0]?.id
    if (id === undefined) return false
    const cycle = nextMonth(month)
    if (e.creditCents > 0) {
      await db.query(SQL.insertAdjustment, [
        id,
        m.customerId,
        firstDay(cycle),
        -e.creditCents,
        e.currency,
        `SLA credit ${month.key}: ${e.creditPercent}% of ${formatCents(e.feeCents)} ${e.currency}`,
      ])
    }
    await queueCustomerNotification(db, {
      customerId: m.customerId,
      kind: e.creditCents > 0 ? 'sla.credit_issued' : 'sla.monthly_report',
      dedupKey: `sla:${month.key}`,
      payload: {
        month: month.key,
        creditId: id,
        creditPercent: e.creditPercent,
        creditAmount: formatCents(e.creditCents),
        currency: e.currency,
        billingCycle: cycle.key,
        uptimePercent: m.uptime.percent,
        uptimeTarget: m.uptime.target,
        successRate: m.success.successRate,
        successRateTarget: m.success.target,
        tiers: e.tiers,
        report: `/v1/sla/credits?month=${month.key}&customerId=${m.customerId}&format=html`,
      } satisfies SlaNotice,
    })
    return true
  })
}

interface CreditRow {
  id: number
  customer_id: string
  month: string
  plan_version: number
  credit_percent: string
  fee_cents: number
  credit_cents: number
  currency: string
  tiers: TierHit[]
  inputs: CustomerMonth
  inputs_sha256: string
  computed_at: Date
  created_at: Date
}

/** A record without its figures (`inputs`): what a history lists. */
export type CreditSummary = Omit<CreditRecord, 'inputs'>

const toSummary = (r: Omit<CreditRow, 'inputs'>): CreditSummary => ({
  id: r.id,
  customerId: r.customer_id,
  month: r.month,
  planVersion: r.plan_version,
  creditPercent: Number(r.credit_percent),
  feeCents: r.fee_cents,
  creditCents: r.credit_cents,
  currency: r.currency,
  tiers: r.tiers,
  inputsSha256: r.inputs_sha256,
  computedAt: r.computed_at.toISOString(),
  createdAt: r.created_at.toISOString(),
})

export async function listCredits(db: Queryable, month: Month, customerId?: string): Promise<CreditRecord[]> {
  const { rows } = await db.query<CreditRow>(SQL.listCredits, [firstDay(month), customerId ?? null])
  return rows.map((r) => ({ ...toSummary(r), inputs: r.inputs }))
}

/** The customer's last `limit` closed months, newest first, each with its billing adjustments. */
export async function customerCreditHistory(
  db: Queryable,
  customerId: string,
  limit: number,
): Promise<(CreditSummary & { adjustments: BillingAdjustment[] })[]> {
  const { rows } = await db.query<Omit<CreditRow, 'inputs'>>(SQL.customerCredits, [customerId, limit])
  const adjustments = rows.length
    ? (await db.query<AdjustmentRow>(SQL.customerAdjustments, [customerId, rows.map((r) => r.id)])).rows.map(
        toAdjustment,
      )
    : []
  return rows.map((r) => ({
    ...toSummary(r),
    adjustments: adjustments.filter((a) => a.creditId === r.id),
  }))
}

/** Customers that have a record for the month. */
export async function creditedCustomers(db: Queryable, month: Month): Promise<Set<string>> {
  const { rows } = await db.query<{ customer_id: string }>(SQL.creditedCustomers, [firstDay(month)])
  return new Set(rows.map((r) => r.customer_id))
}

interface AdjustmentRow {
  id: number
  credit_id: number
  adjustment_id: number | null
  kind: BillingAdjustment['kind']
  customer_id: string
  cycle: string
  amount_cents: number
  currency: string
  description: string
}

// bigint columns arrive as strings from pg: every number is converted here, once.
const toAdjustment = (r: AdjustmentRow): BillingAdjustment => ({
  id: Number(r.id),
  creditId: Number(r.credit_id),
  kind: r.kind,
  adjustmentId: r.adjustment_id === null ? null : Number(r.adjustment_id),
  customerId: r.customer_id,
  billingCycle: r.cycle,
  amountCents: Number(r.amount_cents),
  amount: formatCents(Number(r.amount_cents)),
  currency: r.currency,
  description: r.description,
})

/** Adjustments to apply in `cycle` (credits of the month before it). */
export async function listBillingAdjustments(
  db: Queryable,
  cycle: Month,
  customerId?: string,
): Promise<BillingAdjustment[]> {
  const { rows } = await db.query<AdjustmentRow>(SQL.listAdjustments, [firstDay(cycle), customerId ?? null])
  return rows.map(toAdjustment)
}

interface SlaMonthlyRow {
  month: string
  customer_id: string
  metric: string
  value: number
  target: number
  met: number
  credit_percent: number
  /** 'credit' row: the net credited, in units (credit_cents + adjustment_cents); other rows 0. */
  credit_amount: number
  /** 'credit' row: the record's credit in cents; other rows 0. */
  credit_cents: number
  /** 'credit' row: the sum of the record's corrections in cents (ledger.ts); other rows 0. */
  adjustment_cents: number
  currency: string
  plan_version: number
  computed_at: string
}

/**
 * The sla_monthly rows of one customer's month: every metric with the credit % of the tier it hit;
 * the money only on the 'credit' row, in cents as billed (`adjustmentCents`: its corrections).
 */
export function slaMonthlyRows(m: CustomerMonth, adjustmentCents = 0): SlaMonthlyRow[] {
  const e = m.evaluation
  const base = {
    month: `${m.month}-01`,
    customer_id: m.customerId,
    currency: e.currency,
    plan_version: m.plan.version,
    computed_at: m.computedAt.replace('T', ' ').replace('Z', ''),
    credit_amount: 0,
    credit_cents: 0,
    adjustment_cents: 0,
  }
  const tier = (metric: TierHit['metric']) => e.tiers.find((t) => t.metric === metric)?.creditPercent ?? 0
  const row = (metric: string, value: number, target: number, met: boolean, credit = 0): SlaMonthlyRow => ({
    ...base,
    metric,
    value,
    target,
    met: met ? 1 : 0,
    credit_percent: credit,
  })
  const execCredit = tier('execution_time')
  return [
    row('uptime', m.uptime.percent, m.uptime.target, m.uptime.met, tier('uptime')),
    row('success_rate', m.success.successRate ?? 100, m.success.target, m.success.met, tier('success_rate')),
    ...m.executionTime
      .filter((x) => x.compliancePercent !== null)
      .map((x) =>
        row(
          `execution_time:${x.runType}`,
          x.compliancePercent!,
          x.withinPercentTarget!,
          !!x.met,
          x.met ? 0 : execCredit,
        ),
      ),
    ...m.rto.map((r) => row(`rto:${r.kind}`, r.worstSeconds ?? 0, r.targetSeconds, r.met)),
    // An unmeasured RPO has no value to plot: it is in the record, not in this copy.
    ...m.rpo
      .filter((r) => r.worstSeconds !== null)
      .map((r) => row(`rpo:${r.source}`, r.worstSeconds!, r.targetSeconds, r.met === true)),
    row('cost', m.cost.total, 0, true),
    {
      ...row('credit', e.creditPercent, 0, e.creditPercent === 0, e.creditPercent),
      credit_cents: e.creditCents,
      adjustment_cents: adjustmentCents,
      credit_amount: Number(formatCents(e.creditCents + adjustmentCents)),
    },
  ]
}

/** Writes months to sla_monthly; `adjustments`: the corrections (cents) of each closed customer. */
export async function writeSlaMonthly(
  ch: ClickHouseClient,
  months: CustomerMonth[],
  adjustments: Map<string, number> = new Map(),
): Promise<void> {
  const values = months.flatMap((m) => slaMonthlyRows(m, adjustments.get(m.customerId) ?? 0))
  if (values.length) await ch.insert({ table: 'sla_monthly', values, format: 'JSONEachRow' })
}
