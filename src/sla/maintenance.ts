// Planned maintenance windows: from the config file and from the admin API (PostgreSQL).
import type { Queryable } from '../db/postgres.ts'
import { NotFoundError } from '../errors.ts'
import type { SlaConfig } from './config.ts'
import type { Month } from './months.ts'
import type { MaintenanceWindow } from './schemas.ts'

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
  }>(
    `SELECT id, customer_id, starts_at, ends_at, reason FROM sla_maintenance_windows
     WHERE starts_at < $2 AND ends_at > $1 ORDER BY starts_at, id`,
    [month.start, month.end],
  )
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
  db: Queryable,
  w: { customerId?: string; start: string; end: string; reason: string },
): Promise<MaintenanceWindow> {
  if (w.customerId) {
    const { rows } = await db.query('SELECT 1 FROM customers WHERE id = $1', [w.customerId])
    if (!rows.length) throw new NotFoundError(`customer ${w.customerId}`)
  }
  const { rows } = await db.query<{ id: number }>(
    `INSERT INTO sla_maintenance_windows (customer_id, starts_at, ends_at, reason) VALUES ($1, $2, $3, $4) RETURNING id`,
    [w.customerId ?? null, w.start, w.end, w.reason],
  )
  return {
    id: rows[0]!.id,
    source: 'api',
    customerId: w.customerId ?? null,
    start: new Date(w.start).toISOString(),
    end: new Date(w.end).toISOString(),
    reason: w.reason,
  }
}
