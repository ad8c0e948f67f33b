// Planned maintenance windows: declared through the admin API or in the config file, all stored
// in PostgreSQL (sla_maintenance_windows) with when, by whom, and on what terms.
//
// Guarantees (docs/sla.md, "How each figure is computed: maintenance"):
// - a window starting less than `sla.maintenanceNoticeHours` after it is declared is late, and one
//   that takes a customer's month past its plan's `maintenanceCapMinutes` is over the cap; either
//   is accepted only as an explicit adjustment with a reason (status 'adjustment', an audit row
//   with the actor); without one the API refuses it (422, nothing stored) and a config-file window
//   is stored as 'refused' and never applied;
// - a config-file window is judged when Steward first sees it (its content is its key), so editing
//   the file later cannot make a late window look planned;
// - windows are cancelled (kept, marked with who, when and why, audited), never deleted; a
//   cancelled or refused window excludes nothing;
// - declarations are serialised (an advisory lock), so two windows declared at once cannot both
//   fit a cap that only one fits.
import { createHash } from 'node:crypto'
import type { Queryable } from '../db/postgres.ts'
import { transaction } from '../db/postgres.ts'
import { ConflictError, NotFoundError, ValidationError } from '../errors.ts'
import type { SlaContext } from './context.ts'
import { requireCustomer } from './customers.ts'
import { audit } from './holds.ts'
import { monthOf, monthsBetween, type Span } from './months.ts'
import { resolvePlans } from './plans.ts'
import type { MaintenanceWindow, NewMaintenanceWindow } from './schemas/plan.ts'
import { maintenanceMask } from './uptime.ts'

const SQL = {
  overlapping: `
    SELECT * FROM sla_maintenance_windows WHERE starts_at < $2 AND ends_at > $1 ORDER BY starts_at, id`,
  insert: `
    INSERT INTO sla_maintenance_windows (customer_id, starts_at, ends_at, reason, source, config_key,
      declared_at, declared_by, status, adjustment_kinds, adjustment_reason)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
    ON CONFLICT (config_key) DO NOTHING RETURNING *`,
  configKeys: 'SELECT config_key FROM sla_maintenance_windows WHERE config_key IS NOT NULL',
  lock: `SELECT pg_advisory_xact_lock(hashtext('steward:sla-maintenance'))`,
  cancel: `
    UPDATE sla_maintenance_windows SET cancelled_at = $2, cancelled_by = $3, cancel_reason = $4
    WHERE id = $1 AND cancelled_at IS NULL RETURNING *`,
  get: 'SELECT * FROM sla_maintenance_windows WHERE id = $1',
}

interface WindowRow {
  id: number
  customer_id: string | null
  starts_at: Date
  ends_at: Date
  reason: string
  source: 'api' | 'config'
  declared_at: Date
  declared_by: string
  status: 'planned' | 'adjustment' | 'refused'
  adjustment_kinds: ('late' | 'over_cap')[]
  adjustment_reason: string | null
  cancelled_at: Date | null
  cancelled_by: string | null
  cancel_reason: string | null
}

const toWindow = (r: WindowRow): MaintenanceWindow => ({
  id: Number(r.id),
  source: r.source,
  customerId: r.customer_id,
  start: r.starts_at.toISOString(),
  end: r.ends_at.toISOString(),
  reason: r.reason,
  declaredAt: r.declared_at.toISOString(),
  declaredBy: r.declared_by,
  status: r.cancelled_at ? 'cancelled' : r.status,
  adjustment: r.adjustment_reason ? { kinds: r.adjustment_kinds, reason: r.adjustment_reason } : null,
  cancelledAt: r.cancelled_at?.toISOString() ?? null,
  cancelledBy: r.cancelled_by,
  cancelReason: r.cancel_reason,
})

/** Every window overlapping [from, to) (cancelled and refused ones included: they are shown). */
async function windowsBetween(db: Queryable, from: Date, to: Date): Promise<MaintenanceWindow[]> {
  const { rows } = await db.query<WindowRow>(SQL.overlapping, [from, to])
  return rows.map(toWindow)
}

/** Windows overlapping the month (or any span), whatever their status. */
export function maintenanceWindows(db: Queryable, month: Span): Promise<MaintenanceWindow[]> {
  return windowsBetween(db, month.start, month.end)
}

/** Whether a window applies to `customerId` (null: the factory): it excludes minutes only when planned or an adjustment. */
export const appliesTo = (w: MaintenanceWindow, customerId: string | null) =>
  (w.status === 'planned' || w.status === 'adjustment') &&
  (w.customerId === null || w.customerId === customerId)

const bounds = (w: { start: string; end: string }) => ({ start: new Date(w.start), end: new Date(w.end) })

/** Customers whose month the window takes past their plan's cap, with the minutes it would make. */
async function overCap(
  db: Queryable,
  ctx: SlaContext,
  w: NewMaintenanceWindow,
): Promise<{ customerId: string | null; month: string; minutes: number; cap: number }[]> {
  const start = new Date(w.start)
  const end = new Date(w.end)
  const subjects = w.customerId
    ? [w.customerId]
    : (await ctx.tenants.customers()).filter((c) => Date.parse(c.createdAt) < end.getTime()).map((c) => c.id)
  const out: { customerId: string | null; month: string; minutes: number; cap: number }[] = []
  for (const month of monthsBetween(monthOf(start), monthOf(new Date(end.getTime() - 1)))) {
    const existing = await windowsBetween(db, month.start, month.end)
    const plans = await resolvePlans(db, ctx.config, subjects, month)
    const check = (customerId: string | null, cap: number) => {
      const mine = existing.filter((x) => appliesTo(x, customerId)).map(bounds)
      const minutes = maintenanceMask(month, [...mine, { start, end }]).reduce((a, x) => a + x, 0)
      if (minutes > cap) out.push({ customerId, month: month.key, minutes, cap })
    }
    if (!subjects.length) check(null, ctx.config.defaultPlan.maintenanceCapMinutes)
    for (const id of subjects) check(id, plans.get(id)!.plan.maintenanceCapMinutes)
  }
  return out
}

/**
 * Declares a window at `now` by `actor`. Late or over-cap windows need `adjustment.reason`: without
 * it the API's declaration is refused (ValidationError naming `start` or `end`); a config-file
 * window (`configKey` given) is stored as refused. Returns null when the config window is known.
 */
async function declare(
  ctx: SlaContext,
  w: NewMaintenanceWindow,
  opts: { now: Date; actor: string; configKey?: string },
): Promise<MaintenanceWindow | null> {
  if (w.customerId) await requireCustomer(ctx.tenants, w.customerId)
  const noticeMs = ctx.config.maintenanceNoticeHours * 3_600_000
  return transaction(ctx.pool, async (db) => {
    await db.query(SQL.lock)
    const lateBy = opts.now.getTime() + noticeMs - Date.parse(w.start)
    const beyond = await overCap(db, ctx, w)
    const kinds: ('late' | 'over_cap')[] = [
      ...(lateBy > 0 ? (['late'] as const) : []),
      ...(beyond.length ? (['over_cap'] as const) : []),
    ]
    if (kinds.length && !w.adjustment && !opts.configKey) {
      const hours = (Date.parse(w.start) - opts.now.getTime()) / 3_600_000
      throw new ValidationError(
        [
          ...(lateBy > 0
            ? [
                {
                  path: 'start',
                  message: `starts ${hours.toFixed(1)} h after it is declared; planned maintenance needs ${ctx.config.maintenanceNoticeHours} h notice (or an adjustment with a reason)`,
                },
              ]
            : []),
          ...beyond.map((b) => ({
            path: 'end',
            message: `takes ${b.customerId ?? 'the factory'} to ${b.minutes} maintenance minutes in ${b.month}, over its plan's cap of ${b.cap} (or an adjustment with a reason)`,
          })),
        ],
        'this window needs an adjustment with a reason',
        'unprocessable',
      )
    }
    const status = !kinds.length ? 'planned' : w.adjustment ? 'adjustment' : 'refused'
    const { rows } = await db.query<WindowRow>(SQL.insert, [
      w.customerId ?? null,
      w.start,
      w.end,
      w.reason,
      opts.configKey ? 'config' : 'api',
      opts.configKey ?? null,
      opts.now,
      opts.actor,
      status,
      status === 'adjustment' ? kinds : [],
      status === 'adjustment' ? w.adjustment!.reason : null,
    ])
    if (!rows[0]) return null
    const window = toWindow(rows[0])
    if (status === 'adjustment') {
      await audit(db, {
        actor: opts.actor,
        action: 'maintenance.adjustment',
        subject: `maintenance:${window.id}`,
        reason: w.adjustment!.reason,
        detail: {
          kinds,
          start: window.start,
          end: window.end,
          customerId: window.customerId,
          overCap: beyond,
        },
      })
    }
    if (status === 'refused')
      ctx.log?.error('maintenance window of the config file refused: it needs an adjustment with a reason', {
        window: window.id,
        kinds,
      })
    return window
  })
}

/** Declares a window through the API (the admin, at `now`). */
export async function addMaintenanceWindow(
  ctx: SlaContext,
  w: NewMaintenanceWindow,
  opts: { now?: Date; actor: string },
): Promise<MaintenanceWindow> {
  return (await declare(ctx, w, { now: opts.now ?? new Date(), actor: opts.actor }))!
}

/** The config file's windows, stored (and judged) the first time Steward sees each one. */
export async function syncConfigMaintenance(ctx: SlaContext, now = new Date()): Promise<number> {
  const { rows } = await ctx.pool.query<{ config_key: string }>(SQL.configKeys)
  const known = new Set(rows.map((r) => r.config_key))
  let added = 0
  for (const w of ctx.config.maintenance) {
    const key = createHash('sha256')
      .update(JSON.stringify([w.start, w.end, w.reason, w.customerId ?? null, w.adjustment?.reason ?? null]))
      .digest('hex')
    if (known.has(key)) continue
    const actor = w.actor ? `config (${w.actor})` : 'config'
    if (await declare(ctx, w, { now, actor, configKey: key })) added++
  }
  return added
}

/** Cancels a window (kept, marked, audited): NotFoundError, or ConflictError when cancelled already. */
export async function cancelMaintenanceWindow(
  ctx: SlaContext,
  id: number,
  opts: { actor: string; reason: string; now?: Date },
): Promise<MaintenanceWindow> {
  return transaction(ctx.pool, async (db) => {
    const { rows } = await db.query<WindowRow>(SQL.cancel, [
      id,
      opts.now ?? new Date(),
      opts.actor,
      opts.reason,
    ])
    if (!rows[0]) {
      const { rows: found } = await db.query<WindowRow>(SQL.get, [id])
      if (!found[0]) throw new NotFoundError(`maintenance window ${id}`)
      throw new ConflictError(
        `maintenance window ${id} was already cancelled on ${found[0].cancelled_at?.toISOString()}`,
      )
    }
    const window = toWindow(rows[0])
    await audit(db, {
      actor: opts.actor,
      action: 'maintenance.cancel',
      subject: `maintenance:${id}`,
      reason: opts.reason,
      detail: { start: window.start, end: window.end, customerId: window.customerId, status: rows[0].status },
    })
    return window
  })
}
