// The scheduling copy of customer settings: each customer's effective fair-share weight and
// concurrency caps in `customer_scheduling`, where the orchestrator's claim reads them in SQL (the
// documented exception to "a table is read only through its owning module": a claim must weigh
// every customer with queued jobs in one statement, docs/architecture.md).
//
// Guarantees: a customer's row is written in the transaction that changes its settings; the row
// '*' holds the defaults (used for a customer without a row of its own); `syncScheduling` rewrites
// every row from the effective settings (serve's start: the config's defaults may have changed).
import type { Queryable } from '../db/postgres.ts'
import type { CustomerSettings } from './settings.ts'

/** The row of the defaults, for customers without one of their own ('*' is never a customer id). */
const DEFAULTS_ROW = '*'

const SQL = {
  upsert: `
    INSERT INTO customer_scheduling (customer_id, weight, per_pool, per_run)
    SELECT * FROM unnest($1::text[], $2::float8[], $3::jsonb[], $4::int[])
    ON CONFLICT (customer_id) DO UPDATE
      SET weight = EXCLUDED.weight, per_pool = EXCLUDED.per_pool, per_run = EXCLUDED.per_run`,
}

type Scheduling = Pick<CustomerSettings, 'schedulingWeight' | 'concurrency'>

/** Writes the scheduling copy of these customers' effective settings (`'*'`: the defaults). */
export async function writeScheduling(
  db: Queryable,
  entries: { customerId: string; settings: Scheduling }[],
): Promise<void> {
  if (entries.length === 0) return
  await db.query(SQL.upsert, [
    entries.map((e) => e.customerId),
    entries.map((e) => e.settings.schedulingWeight),
    entries.map((e) => JSON.stringify(e.settings.concurrency.perPool)),
    entries.map((e) => e.settings.concurrency.perRun),
  ])
}

/** Rewrites the defaults row and every customer's row (a change of the config's defaults). */
export async function syncScheduling(
  db: Queryable,
  defaults: CustomerSettings,
  customers: { id: string; settings: Scheduling }[],
): Promise<void> {
  const all = [
    { customerId: DEFAULTS_ROW, settings: defaults },
    ...customers.map((c) => ({ customerId: c.id, settings: c.settings })),
  ]
  for (let i = 0; i < all.length; i += 1000) await writeScheduling(db, all.slice(i, i + 1000))
}
