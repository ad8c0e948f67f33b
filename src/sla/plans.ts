// SLA plans per customer, versioned. Version 0 is the config file's plan for the customer (or the
// default plan); the admin API adds versions 1, 2, ... each effective from a month. The plan in
// force for a month is the highest version whose effectiveFrom is not after that month.
import type { Queryable } from '../db/postgres.ts'
import { transaction } from '../db/postgres.ts'
import { NotFoundError } from '../errors.ts'
import type { SlaConfig } from './config.ts'
import type { SlaContext } from './context.ts'
import { requireCustomer } from './customers.ts'
import { firstDay, type Month } from './months.ts'
import { type PlanInput, type PlanVersion, planSchema, type ResolvedPlan } from './schemas/plan.ts'

const SQL = {
  inForce: `
    SELECT DISTINCT ON (customer_id) customer_id, version, to_char(effective_from, 'YYYY-MM') AS effective_from, plan
    FROM sla_plans WHERE customer_id = ANY($1) AND effective_from <= $2::date
    ORDER BY customer_id, version DESC`,
  versions: `
    SELECT version, to_char(effective_from, 'YYYY-MM') AS effective_from, plan, created_at
    FROM sla_plans WHERE customer_id = $1 ORDER BY version DESC`,
  // The one read of tenants' customers table in this module: a lock inside the transaction that
  // adds the version, so the customer cannot be deleted before the version commits (and an
  // unknown customer is a 404, not a foreign-key error).
  lockCustomer: 'SELECT 1 FROM customers WHERE id = $1 FOR KEY SHARE',
  // Serialises version numbering per customer.
  lockVersions: `SELECT pg_advisory_xact_lock(hashtext('steward:sla-plan:' || $1))`,
  insertVersion: `
    INSERT INTO sla_plans (customer_id, version, effective_from, plan)
    SELECT $1, coalesce(max(version), 0) + 1, $2::date, $3 FROM sla_plans WHERE customer_id = $1
    RETURNING version, created_at`,
}

function basePlan(config: SlaConfig, customerId: string): ResolvedPlan {
  const own = config.plans[customerId]
  return own
    ? { version: 0, source: 'config', effectiveFrom: null, plan: own }
    : { version: 0, source: 'default', effectiveFrom: null, plan: config.defaultPlan }
}

export async function resolvePlans(
  db: Queryable,
  config: SlaConfig,
  customerIds: string[],
  month: Month,
): Promise<Map<string, ResolvedPlan>> {
  const { rows } = await db.query<{
    customer_id: string
    version: number
    effective_from: string
    plan: unknown
  }>(SQL.inForce, [customerIds, firstDay(month)])
  const out = new Map(customerIds.map((id) => [id, basePlan(config, id)]))
  for (const r of rows) {
    out.set(r.customer_id, {
      version: r.version,
      source: 'api',
      effectiveFrom: r.effective_from,
      plan: planSchema.parse(r.plan),
    })
  }
  return out
}

/** Every version of a customer's plan, newest first (version 0 last). */
export async function listPlanVersions(ctx: SlaContext, customerId: string): Promise<PlanVersion[]> {
  await requireCustomer(ctx.tenants, customerId)
  const { rows } = await ctx.pool.query<{
    version: number
    effective_from: string
    plan: unknown
    created_at: Date
  }>(SQL.versions, [customerId])
  return [
    ...rows.map((r) => ({
      version: r.version,
      source: 'api' as const,
      effectiveFrom: r.effective_from,
      plan: planSchema.parse(r.plan),
      createdAt: r.created_at.toISOString(),
    })),
    { ...basePlan(ctx.config, customerId), createdAt: null },
  ]
}

/** Adds a plan version (the stored plan has every default filled in, so later defaults never change it). */
export async function addPlanVersion(
  ctx: SlaContext,
  customerId: string,
  input: PlanInput,
  effectiveFrom: Month,
): Promise<PlanVersion> {
  const plan = planSchema.parse(input)
  return transaction(ctx.pool, async (db) => {
    const { rows: exists } = await db.query(SQL.lockCustomer, [customerId])
    if (!exists.length) throw new NotFoundError(`customer ${customerId}`)
    await db.query(SQL.lockVersions, [customerId])
    const { rows } = await db.query<{ version: number; created_at: Date }>(SQL.insertVersion, [
      customerId,
      firstDay(effectiveFrom),
      JSON.stringify(plan),
    ])
    return {
      version: rows[0]!.version,
      source: 'api',
      effectiveFrom: effectiveFrom.key,
      plan,
      createdAt: rows[0]!.created_at.toISOString(),
    }
  })
}
