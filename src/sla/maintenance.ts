// Planned maintenance windows: from the config file and from the admin API (PostgreSQL).
import type { Queryable } from '../db/postgres.ts'
import type { SlaConfig } from './config.ts'
import type { SlaContext } from './context.ts'
import { requireCustomer } from './customers.ts'
import type { Month } from './months.ts'
import type { MaintenanceWindow } from './schemas/plan.ts'

const SQL = {
  overlapping: `
    SELECT id, customer_id, starts_at, ends_at, reason FROM sla_maintenance_windows
    WHERE starts_at < $2 AND ends_at > $1 ORDER BY starts_at, id`,
  insert: `
    INSERT INTO sla_maintenance_windows (customer_id, starts_at, ends_at, reason) VALUES ($1, $2, $3, $4)
    RETURNING id`,
}

/** Windows overlapping the month that apply to `customerId` (null: the factory-wide ones only). */
export async function maintenanceWindows(
  db: Queryable,
  config: SlaConfig,
  month: Month,
): Promise<MaintenanceWindow[]> {
  const fromConfig: MaintenanceWindow[] = config.maintenance
    .filter((w) => Date.parse(w.start) < month.end.getTime() && Date.parse(w.end) > month.start.getTime())
    .map((w) => ({
      id: null,
      source: 'config',
      customerId: w.customerId ?? null,
      start: new Date(w.start).toISOString(),
      end: new Date(w.end).toISOString(),
      reason: w.reason,
    }))
  const { rows } = await db.query<{
    id: number
    customer_id: string | null
    starts_at: Date
    ends_at: Date
    reason: string
  }>(SQL.overlapping, [month.start, month.end])
  return [
    ...fromConfig,
    ...rows.map((r) => ({
      id: r.id,
      source: 'api' as const,
      customerId: r.customer_id,
      start: r.starts_at.toISOString(),
      end: r.ends_at.toISOString(),
      reason: r.reason,
    })),
  ]
}

export const appliesTo = (w: MaintenanceWindow, customerId: string | null) =>
  w.customerId === null || w.customerId === customerId

export async function addMaintenanceWindow(
  ctx: SlaContext,
  w: { customerId?: string; start: string; end: string; reason: string },
): Promise<MaintenanceWindow> {
  if (w.customerId) await requireCustomer(ctx.tenants, w.customerId)
  const { rows } = await ctx.pool.query<{ id: number }>(SQL.insert, [
    w.customerId ?? null,
    w.start,
    w.end,
    w.reason,
  ])
  return {
    id: rows[0]!.id,
    source: 'api',
    customerId: w.customerId ?? null,
    start: new Date(w.start).toISOString(),
    end: new Date(w.end).toISOString(),
    reason: w.reason,
  }
}
