// Controls over one customer's work, set by a module above (budgets: docs/cost.md "Budgets") or an
// admin through it: a hold and fallback mode (table `customer_controls`, migration 111).
//
// Guarantees:
// - a hold keeps the customer's runs that have not started queued: the claim skips their jobs
//   (claim.ts), and each such job's why-not-running answer is `paused` with the hold's reason.
//   Steps of runs already started go on. Lifting the hold wakes the pools' workers at commit;
// - fallback mode switches, in the same transaction as the setting, every queued or blocked step
//   of the customer that declares a fallback and is not on it yet, and every such step of a run
//   created while the mode is on (runs.ts): its kind, pool and input become the fallback's, and
//   what it was is kept (`jobs.primary_step`). Leaving the mode switches back the steps that have
//   not started since; steps that ran on their fallback keep that history;
// - setting a control is idempotent: the same control twice changes nothing (not even `since`).
import type { Pool, Queryable } from '../db/postgres.ts'
import { transaction } from '../db/postgres.ts'
import { notifyPools } from './settle.ts'

/** Who set a control and why, in a sentence (shown in why-not-running answers). */
export interface ControlReason {
  by: string
  detail: string
}

export interface CustomerControl {
  customerId: string
  hold: (ControlReason & { since: string }) | null
  fallback: (ControlReason & { since: string }) | null
}

const SQL = {
  get: 'SELECT * FROM customer_controls WHERE customer_id = $1',
  lock: 'SELECT * FROM customer_controls WHERE customer_id = $1 FOR UPDATE',
  upsert: `
    INSERT INTO customer_controls AS c (customer_id, hold_by, hold_detail, hold_since,
                                        fallback_by, fallback_detail, fallback_since)
    VALUES ($1, $2, $3, CASE WHEN $2::text IS NULL THEN NULL ELSE now() END,
            $4, $5, CASE WHEN $4::text IS NULL THEN NULL ELSE now() END)
    ON CONFLICT (customer_id) DO UPDATE SET
      hold_by = $2, hold_detail = $3,
      hold_since = CASE WHEN $2::text IS NULL THEN NULL ELSE coalesce(c.hold_since, now()) END,
      fallback_by = $4, fallback_detail = $5,
      fallback_since = CASE WHEN $4::text IS NULL THEN NULL ELSE coalesce(c.fallback_since, now()) END,
      updated_at = now()
    RETURNING *`,
  // Steps not started of the customer that declare a fallback: onto it, keeping what they were.
  switchToFallback: `
    UPDATE jobs SET primary_step = jsonb_build_object('kind', kind, 'pool', pool, 'input', input),
      kind = fallback->>'kind', pool = fallback->>'pool', input = coalesce(fallback->'input', input),
      using_fallback = true
    WHERE customer_id = $1 AND status IN ('queued', 'blocked') AND fallback IS NOT NULL
      AND NOT using_fallback
    RETURNING pool, status`,
  switchBack: `
    UPDATE jobs SET kind = primary_step->>'kind', pool = primary_step->>'pool', input = primary_step->'input',
      using_fallback = false, primary_step = NULL
    WHERE customer_id = $1 AND status IN ('queued', 'blocked') AND primary_step IS NOT NULL
    RETURNING pool, status`,
  // Pools with ready jobs of the customer (woken when a hold is lifted).
  readyPools: `SELECT DISTINCT pool FROM jobs WHERE customer_id = $1 AND status = 'queued'`,
}

interface ControlRow {
  customer_id: string
  hold_by: string | null
  hold_detail: string | null
  hold_since: Date | null
  fallback_by: string | null
  fallback_detail: string | null
  fallback_since: Date | null
}

function toControl(customerId: string, r: ControlRow | undefined): CustomerControl {
  const part = (by: string | null, detail: string | null, since: Date | null) =>
    by && detail && since ? { by, detail, since: since.toISOString() } : null
  return {
    customerId,
    hold: r ? part(r.hold_by, r.hold_detail, r.hold_since) : null,
    fallback: r ? part(r.fallback_by, r.fallback_detail, r.fallback_since) : null,
  }
}

export async function getCustomerControl(db: Queryable, customerId: string): Promise<CustomerControl> {
  const { rows } = await db.query<ControlRow>(SQL.get, [customerId])
  return toControl(customerId, rows[0])
}

/**
 * Sets both controls of a customer (null lifts one), switching its steps onto or off their
 * fallbacks as the mode changes; returns the control as it now is. Runs in `db`'s transaction
 * when given one (a caller recording why does so in the same commit), else in its own.
 */
export async function setCustomerControl(
  pool: Pool,
  customerId: string,
  next: { hold: ControlReason | null; fallback: ControlReason | null },
  db?: Queryable,
): Promise<CustomerControl> {
  const apply = async (c: Queryable) => {
    const before = toControl(customerId, (await c.query<ControlRow>(SQL.lock, [customerId])).rows[0])
    const { rows } = await c.query<ControlRow>(SQL.upsert, [
      customerId,
      next.hold?.by ?? null,
      next.hold?.detail ?? null,
      next.fallback?.by ?? null,
      next.fallback?.detail ?? null,
    ])
    const woken: string[] = []
    if (!before.fallback !== !next.fallback) {
      const moved = await c.query<{ pool: string; status: string }>(
        next.fallback ? SQL.switchToFallback : SQL.switchBack,
        [customerId],
      )
      woken.push(...moved.rows.filter((r) => r.status === 'queued').map((r) => r.pool))
    }
    if (before.hold && !next.hold)
      woken.push(...(await c.query<{ pool: string }>(SQL.readyPools, [customerId])).rows.map((r) => r.pool))
    await notifyPools(c, woken)
    return toControl(customerId, rows[0])
  }
  return db ? apply(db) : transaction(pool, apply)
}
