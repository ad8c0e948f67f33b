// Held months: a month whose ClickHouse signal coverage disagrees with the witness is not closed
// on missing telemetry; it waits, visible, until an admin releases it with a reason.
//
// Guarantees (docs/sla.md, "Held months"):
// - a hold is recorded once per month and refreshed by every close run that checks the month
//   again (its counts show whether restored data closed the gap);
// - only an admin releases it, with a reason; the release and its audit row commit together, and
//   a released hold is never held again nor released twice.
import type { Queryable } from '../db/postgres.ts'
import { transaction } from '../db/postgres.ts'
import { ConflictError, NotFoundError } from '../errors.ts'
import type { SlaContext } from './context.ts'
import { firstDay, type Month } from './months.ts'
import type { Coverage } from './schemas/figures.ts'
import type { AuditEntry, MonthHold } from './schemas/holds.ts'

const SQL = {
  get: `SELECT *, to_char(month, 'YYYY-MM') AS key FROM sla_month_holds WHERE month = $1::date`,
  list: `SELECT *, to_char(month, 'YYYY-MM') AS key FROM sla_month_holds
         WHERE ($1::boolean IS NULL OR (released_at IS NULL) = $1) ORDER BY month`,
  record: `
    INSERT INTO sla_month_holds (month, unmeasured_minutes, periods) VALUES ($1::date, $2, $3)
    ON CONFLICT (month) DO UPDATE SET checked_at = now(), unmeasured_minutes = EXCLUDED.unmeasured_minutes,
      periods = EXCLUDED.periods
    WHERE sla_month_holds.released_at IS NULL
    RETURNING *, to_char(month, 'YYYY-MM') AS key`,
  release: `
    UPDATE sla_month_holds SET released_at = now(), released_by = $2, release_reason = $3
    WHERE month = $1::date AND released_at IS NULL RETURNING *, to_char(month, 'YYYY-MM') AS key`,
  audit: `
    INSERT INTO sla_audit (actor, action, subject, reason, detail) VALUES ($1, $2, $3, $4, $5)
    RETURNING id, at`,
  auditOf: `SELECT * FROM sla_audit WHERE ($1::text IS NULL OR starts_with(subject, $1)) ORDER BY at, id`,
}

interface HoldRow {
  key: string
  held_at: Date
  checked_at: Date
  unmeasured_minutes: number
  periods: MonthHold['periods']
  released_at: Date | null
  released_by: string | null
  release_reason: string | null
}

const toHold = (r: HoldRow): MonthHold => ({
  month: r.key,
  status: r.released_at ? 'released' : 'held',
  heldAt: r.held_at.toISOString(),
  checkedAt: r.checked_at.toISOString(),
  unmeasuredMinutes: r.unmeasured_minutes,
  periods: r.periods,
  releasedAt: r.released_at?.toISOString() ?? null,
  releasedBy: r.released_by,
  releaseReason: r.release_reason,
})

export async function getHold(db: Queryable, month: Month): Promise<MonthHold | null> {
  const { rows } = await db.query<HoldRow>(SQL.get, [firstDay(month)])
  return rows[0] ? toHold(rows[0]) : null
}

/** Holds, oldest month first (`open`: only unreleased ones, or only released ones). */
export async function listHolds(db: Queryable, open?: boolean): Promise<MonthHold[]> {
  const { rows } = await db.query<HoldRow>(SQL.list, [open ?? null])
  return rows.map(toHold)
}

/** Holds the month (or refreshes its hold); a released hold stays released (returns null). */
export async function recordHold(db: Queryable, month: Month, coverage: Coverage): Promise<MonthHold | null> {
  const { rows } = await db.query<HoldRow>(SQL.record, [
    firstDay(month),
    coverage.missingMinutes,
    JSON.stringify(coverage.missingPeriods),
  ])
  return rows[0] ? toHold(rows[0]) : null
}

/** Appends an audit entry (inside the caller's transaction). */
export async function audit(
  db: Queryable,
  e: Pick<AuditEntry, 'actor' | 'action' | 'subject' | 'reason'> & { detail?: Record<string, unknown> },
): Promise<void> {
  await db.query(SQL.audit, [e.actor, e.action, e.subject, e.reason, JSON.stringify(e.detail ?? {})])
}

export async function auditLog(db: Queryable, subjectPrefix?: string): Promise<AuditEntry[]> {
  const { rows } = await db.query<{
    id: number
    at: Date
    actor: string
    action: AuditEntry['action']
    subject: string
    reason: string
    detail: Record<string, unknown>
  }>(SQL.auditOf, [subjectPrefix ?? null])
  return rows.map((r) => ({ ...r, id: Number(r.id), at: r.at.toISOString() }))
}

/** Releases a held month: NotFoundError without a hold, ConflictError when already released. */
export async function releaseHold(
  ctx: Pick<SlaContext, 'pool'>,
  month: Month,
  actor: string,
  reason: string,
): Promise<MonthHold> {
  return transaction(ctx.pool, async (db) => {
    const { rows } = await db.query<HoldRow>(SQL.release, [firstDay(month), actor, reason])
    if (!rows[0]) {
      const hold = await getHold(db, month)
      if (!hold) throw new NotFoundError(`hold of month ${month.key}`)
      throw new ConflictError(`month ${month.key} was already released on ${hold.releasedAt}`)
    }
    const hold = toHold(rows[0])
    await audit(db, {
      actor,
      action: 'month.release',
      subject: `month:${month.key}`,
      reason,
      detail: { unmeasuredMinutes: hold.unmeasuredMinutes },
    })
    return hold
  })
}
