// The late-data check (scheduled job sla.late-data-check): recomputes each closed month of the last
// `sla.lateDataMonths` months and compares it with what the close issued. Telemetry that arrived
// after the close (a relay that caught up, a run resumed and finished after its month, an
// operator's back-filled events) may change a month's figures; the record never changes
// (credits.ts), so operators are told and decide (a correction, ledger.ts).
//
// Guarantees:
// - a month is compared on what a credit rests on (the credit and its tiers, the minutes and the
//   counted runs behind them), not on incidental fields (computedAt, cost, RPO);
// - each distinct change of a credit is reported once: a finding is unique per credit and change,
//   so a second check (or a concurrent one) finds the same change and reports nothing new;
// - a finding stays open (an operator incident, through the incidents module's `sla_late_data`
//   rule) until the credit is adjusted, a newer change supersedes it, or the recompute matches the
//   record again.
import { createHash } from 'node:crypto'
import type { Queryable } from '../db/postgres.ts'
import type { SlaContext } from './context.ts'
import { canonicalJson, listCredits } from './credits.ts'
import { computeMonth } from './figures.ts'
import { firstDay, type Month, monthOf, parseMonth } from './months.ts'
import type { CustomerMonth } from './schemas/figures.ts'

const SQL = {
  months: `SELECT DISTINCT to_char(month, 'YYYY-MM') AS month FROM sla_credits WHERE month >= $1::date AND month < $2::date ORDER BY 1`,
  insert: `
    INSERT INTO sla_late_data (credit_id, customer_id, month, issued_cents, recomputed_cents, changes, changes_sha256)
    VALUES ($1, $2, $3::date, $4, $5, $6, $7)
    ON CONFLICT (credit_id, changes_sha256) DO NOTHING RETURNING id`,
  resolve: `UPDATE sla_late_data SET resolved_at = now(), resolution = $2
            WHERE credit_id = $1 AND resolved_at IS NULL AND ($3::bigint IS NULL OR id <> $3)`,
  open: `
    SELECT id, credit_id, customer_id, to_char(month, 'YYYY-MM') AS month, issued_cents, recomputed_cents, changes, found_at
    FROM sla_late_data WHERE resolved_at IS NULL ORDER BY month, customer_id`,
}

/** A closed month whose recompute differs from its record, until resolved. */
export interface LateDataFinding {
  id: number
  creditId: number
  customerId: string
  month: string
  issuedCents: number
  recomputedCents: number
  changes: { field: string; issued: unknown; recomputed: unknown }[]
  foundAt: string
}

/** What a credit rests on: compared between the record and a recompute. */
function material(m: CustomerMonth): Record<string, unknown> {
  return {
    creditPercent: m.evaluation.creditPercent,
    creditCents: m.evaluation.creditCents,
    tiers: m.evaluation.tiers.map((t) => `${t.metric} ${t.creditPercent}%`).join(', '),
    'uptime.downMinutes': m.uptime.downMinutes,
    'uptime.eligibleMinutes': m.uptime.eligibleMinutes,
    'success.succeeded': m.success.succeeded,
    'success.finished': m.success.finished,
  }
}

function lateChanges(issued: CustomerMonth, recomputed: CustomerMonth): LateDataFinding['changes'] {
  const a = material(issued)
  const b = material(recomputed)
  return Object.keys(a)
    .filter((k) => canonicalJson(a[k]) !== canonicalJson(b[k]))
    .map((field) => ({ field, issued: a[field], recomputed: b[field] }))
}

/** Closes a credit's open findings (`except`: the one just found). */
export async function resolveLateData(
  db: Queryable,
  creditId: number,
  resolution: string,
  except: number | null = null,
): Promise<void> {
  await db.query(SQL.resolve, [creditId, resolution, except])
}

export interface LateDataResult {
  months: string[]
  /** Findings this check reported (new changes only). */
  found: { month: string; customerId: string; changes: string[] }[]
}

/** Compares each closed month of the last `sla.lateDataMonths` months with a recompute now. */
export async function checkLateData(ctx: SlaContext, now = new Date()): Promise<LateDataResult> {
  const current = monthOf(now)
  const from = parseMonth(
    new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - ctx.config.lateDataMonths, 1))
      .toISOString()
      .slice(0, 7),
  )
  const { rows } = await ctx.pool.query<{ month: string }>(SQL.months, [firstDay(from), firstDay(current)])
  const result: LateDataResult = { months: rows.map((r) => r.month), found: [] }
  for (const key of result.months) {
    const month: Month = parseMonth(key)
    const records = await listCredits(ctx.pool, month)
    const figures = await computeMonth(
      ctx,
      month,
      records.map((r) => r.customerId),
      { now },
    )
    for (const r of records) {
      const recomputed = figures.customers.find((m) => m.customerId === r.customerId)
      if (!recomputed) continue
      const changes = lateChanges(r.inputs, recomputed)
      if (!changes.length) {
        await resolveLateData(ctx.pool, r.id, 'the recompute matches the record again')
        continue
      }
      const hash = createHash('sha256').update(canonicalJson(changes)).digest('hex')
      const { rows: inserted } = await ctx.pool.query<{ id: number }>(SQL.insert, [
        r.id,
        r.customerId,
        firstDay(month),
        r.creditCents,
        recomputed.evaluation.creditCents,
        JSON.stringify(changes),
        hash,
      ])
      const id = inserted[0]?.id
      if (id === undefined) continue
      await resolveLateData(ctx.pool, r.id, `superseded by finding ${id}`, id)
      result.found.push({ month: key, customerId: r.customerId, changes: changes.map((c) => c.field) })
      ctx.log?.warn('sla late data would change a closed month', {
        month: key,
        customerId: r.customerId,
        changes,
      })
    }
  }
  return result
}

/** Open findings, oldest month first (what the incidents module's sla_late_data rule reports). */
export async function openLateData(db: Queryable): Promise<LateDataFinding[]> {
  const { rows } = await db.query<{
    id: number
    credit_id: number
    customer_id: string
    month: string
    issued_cents: number
    recomputed_cents: number
    changes: LateDataFinding['changes']
    found_at: Date
  }>(SQL.open)
  return rows.map((r) => ({
    id: Number(r.id),
    creditId: Number(r.credit_id),
    customerId: r.customer_id,
    month: r.month,
    issuedCents: Number(r.issued_cents),
    recomputedCents: Number(r.recomputed_cents),
    changes: r.changes,
    foundAt: r.found_at.toISOString(),
  }))
}
