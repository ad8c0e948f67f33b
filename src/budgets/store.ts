// The budgets' rows in PostgreSQL (schemas/postgres/112_budgets.sql): crossed thresholds, the
// append-only actions, and each customer's enforcement state. Callers pass the transaction.
import type { Queryable } from '../db/postgres.ts'
import type { BudgetMetric, Threshold } from './figures.ts'
import type { BudgetAction, BudgetActionKind } from './schemas.ts'

const SQL = {
  recordCrossing: `
    INSERT INTO budget_crossings (customer_id, month, metric, budget_cents, threshold, spent_cents, crossed_at)
    VALUES ($1, $2::date, $3, $4, $5, $6, $7)
    ON CONFLICT DO NOTHING RETURNING threshold`,
  crossings: `
    SELECT metric, budget_cents, threshold, crossed_at FROM budget_crossings
    WHERE customer_id = $1 AND month = $2::date`,
  // The enforcement row, created for the month when missing, locked for this transaction.
  ensureEnforcement: `
    INSERT INTO budget_enforcement (customer_id, month) VALUES ($1, $2::date)
    ON CONFLICT (customer_id) DO NOTHING`,
  lockEnforcement: `
    SELECT to_char(month, 'YYYY-MM') AS month, applied, applied_at, released, released_at
    FROM budget_enforcement WHERE customer_id = $1 FOR UPDATE`,
  enforcement: `
    SELECT to_char(month, 'YYYY-MM') AS month, applied, applied_at, released, released_at
    FROM budget_enforcement WHERE customer_id = $1`,
  saveEnforcement: `
    UPDATE budget_enforcement SET month = $2::date, applied = $3, applied_at = $4, released = $5, released_at = $6
    WHERE customer_id = $1`,
  // Customers whose enforcement row holds an action (the policy must lift it when their budget goes).
  applied: `SELECT customer_id FROM budget_enforcement WHERE applied IS NOT NULL`,
  appendAction: `
    INSERT INTO budget_actions (customer_id, month, action, cause, actor, reason, at)
    VALUES ($1, $2::date, $3, $4, $5, $6, $7)`,
  actions: `
    SELECT id, to_char(month, 'YYYY-MM') AS month, action, cause, actor, reason, at FROM budget_actions
    WHERE customer_id = $1 AND month = $2::date ORDER BY id DESC`,
}

const firstDay = (month: string) => `${month}-01`

/** Records a threshold; true when this call recorded it (its event and notice are to be sent). */
export async function recordCrossing(
  db: Queryable,
  c: {
    customerId: string
    month: string
    metric: BudgetMetric
    budgetCents: number
    threshold: Threshold
    spentCents: number
    at: Date
  },
): Promise<boolean> {
  const { rows } = await db.query(SQL.recordCrossing, [
    c.customerId,
    firstDay(c.month),
    c.metric,
    c.budgetCents,
    c.threshold,
    c.spentCents,
    c.at,
  ])
  return rows.length === 1
}

export interface Crossing {
  metric: BudgetMetric
  budgetCents: number
  threshold: Threshold
  crossedAt: Date
}

export async function crossingsOf(db: Queryable, customerId: string, month: string): Promise<Crossing[]> {
  const { rows } = await db.query<{
    metric: BudgetMetric
    budget_cents: string
    threshold: Threshold
    crossed_at: Date
  }>(SQL.crossings, [customerId, firstDay(month)])
  return rows.map((r) => ({
    metric: r.metric,
    budgetCents: Number(r.budget_cents),
    threshold: r.threshold,
    crossedAt: r.crossed_at,
  }))
}

export interface Enforcement {
  month: string
  applied: 'pause' | 'fallback' | null
  appliedAt: Date | null
  released: boolean
  releasedAt: Date | null
}

interface EnforcementRow {
  month: string
  applied: 'pause' | 'fallback' | null
  applied_at: Date | null
  released: boolean
  released_at: Date | null
}

const toEnforcement = (r: EnforcementRow): Enforcement => ({
  month: r.month,
  applied: r.applied,
  appliedAt: r.applied_at,
  released: r.released,
  releasedAt: r.released_at,
})

/** The customer's enforcement row, locked to the caller's transaction (created for `month` if new). */
export async function lockEnforcement(
  db: Queryable,
  customerId: string,
  month: string,
): Promise<Enforcement> {
  await db.query(SQL.ensureEnforcement, [customerId, firstDay(month)])
  return toEnforcement((await db.query<EnforcementRow>(SQL.lockEnforcement, [customerId])).rows[0]!)
}

export async function enforcementOf(db: Queryable, customerId: string): Promise<Enforcement | undefined> {
  const r = (await db.query<EnforcementRow>(SQL.enforcement, [customerId])).rows[0]
  return r && toEnforcement(r)
}

export async function saveEnforcement(db: Queryable, customerId: string, e: Enforcement): Promise<void> {
  await db.query(SQL.saveEnforcement, [
    customerId,
    firstDay(e.month),
    e.applied,
    e.appliedAt,
    e.released,
    e.releasedAt,
  ])
}

export async function customersWithActions(db: Queryable): Promise<string[]> {
  return (await db.query<{ customer_id: string }>(SQL.applied)).rows.map((r) => r.customer_id)
}

export async function appendAction(
  db: Queryable,
  a: {
    customerId: string
    month: string
    action: BudgetActionKind
    cause: string
    actor: 'steward' | 'admin'
    reason: string | null
    at: Date
  },
): Promise<void> {
  await db.query(SQL.appendAction, [
    a.customerId,
    firstDay(a.month),
    a.action,
    a.cause,
    a.actor,
    a.reason,
    a.at,
  ])
}

export async function actionsOf(db: Queryable, customerId: string, month: string): Promise<BudgetAction[]> {
  const { rows } = await db.query<{
    id: string
    month: string
    action: BudgetActionKind
    cause: string
    actor: string
    reason: string | null
    at: Date
  }>(SQL.actions, [customerId, firstDay(month)])
  return rows.map((r) => ({ ...r, id: Number(r.id), at: r.at.toISOString() }))
}
