// The monthly close: for every customer that existed in a past month and has no record for it,
// compute the month, apply the plan and write the immutable credit record (credits.ts).
//
// Guarantees:
// - idempotent and concurrent-safe: records are unique per (customer, month), so a second run, a
//   catch-up after downtime or two instances at once issue nothing twice;
// - every un-closed past month is closed (from sla.firstMonth or the first customer's month),
//   oldest first, so a Steward that was down over a month boundary catches up;
// - a month is not closed while the telemetry outbox still holds events enqueued before the
//   month ended (ClickHouse outage, relay behind): it is deferred to the next run, not closed on
//   partial data;
// - the ClickHouse copy (sla_monthly) is rewritten from the records until a write succeeds.
import type { Queryable } from '../db/postgres.ts'
import { ConflictError } from '../errors.ts'
import { outboxLag } from '../ingest/index.ts'
import type { SlaContext } from './context.ts'
import { creditedCustomers, issueCredit, listCredits, writeSlaMonthly } from './credits.ts'
import { customersOfMonth } from './customers.ts'
import { computeMonth } from './figures.ts'
import { loadLedgers } from './ledger.ts'
import { firstDay, type Month, monthOf, monthsBetween, parseMonth, previousMonth } from './months.ts'
import type { CloseResult } from './schemas/credits.ts'

// sla_month_closes: one row per closed month, and whether its ClickHouse copy is written.
const SQL = {
  recordClose: `
    INSERT INTO sla_month_closes (month, customers) VALUES ($1::date, $2)
    ON CONFLICT (month) DO UPDATE SET customers = EXCLUDED.customers, closed_at = now(), clickhouse_written_at = NULL`,
  markExported: 'UPDATE sla_month_closes SET clickhouse_written_at = now() WHERE month = $1::date',
  markUnexported: 'UPDATE sla_month_closes SET clickhouse_written_at = NULL WHERE month = $1::date',
  listCloses: `SELECT to_char(month, 'YYYY-MM') AS month, clickhouse_written_at IS NOT NULL AS exported FROM sla_month_closes`,
  lastClosed: `SELECT to_char(max(month), 'YYYY-MM') AS month FROM sla_month_closes`,
  // The end of the first closed month not followed by a closed month (months close oldest first,
  // so this is the end of the last one; a gap, should one appear, stops it there).
  closedUntil: `
    SELECT min(m.month + interval '1 month') AT TIME ZONE 'UTC' AS until FROM sla_month_closes m
    WHERE NOT EXISTS (SELECT 1 FROM sla_month_closes n WHERE n.month = m.month + interval '1 month')`,
}

/** Closes one past month; returns what this call issued. */
export async function closeMonth(ctx: SlaContext, month: Month, now = new Date()): Promise<CloseResult> {
  if (now < month.end) throw new ConflictError(`month ${month.key} has not ended yet; use a dry run instead`)
  const existed = await customersOfMonth(ctx.tenants, month)
  const credited = await creditedCustomers(ctx.pool, month)
  const ids = existed.map((c) => c.id).filter((id) => !credited.has(id))
  let issued = 0
  if (ids.length) {
    const figures = await computeMonth(ctx, month, ids, { now })
    for (const m of figures.customers) if (await issueCredit(ctx.pool, m, month)) issued++
  }
  await ctx.pool.query(SQL.recordClose, [firstDay(month), existed.length])
  await exportToClickHouse(ctx, month)
  ctx.log?.info('sla month closed', { month: month.key, computed: ids.length, issued })
  return { month: month.key, computed: ids.length, issued }
}

/**
 * Writes the month's records, with their corrections, to ClickHouse sla_monthly (again after a
 * correction: the newest insert of a row wins); failures are logged and retried later.
 */
export async function exportToClickHouse(ctx: SlaContext, month: Month): Promise<void> {
  try {
    const records = await listCredits(ctx.pool, month)
    const ledgers = await loadLedgers(
      ctx.pool,
      records.map((r) => r.id),
    )
    await writeSlaMonthly(
      ctx.ch,
      records.map((r) => r.inputs),
      new Map(
        records.map((r) => [r.customerId, (ledgers.get(r.id)?.netCents ?? r.creditCents) - r.creditCents]),
      ),
    )
    await ctx.pool.query(SQL.markExported, [firstDay(month)])
  } catch (err) {
    // A month written before (then corrected) is written again by the next close run too.
    await ctx.pool.query(SQL.markUnexported, [firstDay(month)]).catch(() => undefined)
    ctx.log?.warn('sla_monthly export failed; the next close run retries it', {
      month: month.key,
      error: (err as Error).message,
    })
  }
}

export interface DueResult {
  closed: CloseResult[]
  deferred: { month: string; reason: string }[]
}

/** Closes every past month that is not closed yet (the scheduled job). */
export async function closeDueMonths(ctx: SlaContext, now = new Date()): Promise<DueResult> {
  const last = previousMonth(monthOf(now))
  let first: Month
  if (ctx.config.firstMonth) first = parseMonth(ctx.config.firstMonth)
  else {
    const customers = await ctx.tenants.customers()
    if (!customers.length) return { closed: [], deferred: [] }
    first = monthOf(new Date(customers.reduce((t, c) => Math.min(t, Date.parse(c.createdAt)), Infinity)))
  }
  // Never reach back more than three years, whatever the configuration says.
  const floor = monthOf(new Date(Date.UTC(now.getUTCFullYear() - 3, now.getUTCMonth(), 1)))
  if (first.start < floor.start) first = floor
  const { rows: done } = await ctx.pool.query<{ month: string; exported: boolean }>(SQL.listCloses)
  const closed = new Map(done.map((d) => [d.month, d.exported]))
  const lag = await outboxLag(ctx.pool)
  const oldestPending =
    lag.backlog > 0 ? now.getTime() - lag.oldestAgeSeconds * 1000 : Number.POSITIVE_INFINITY
  const result: DueResult = { closed: [], deferred: [] }
  for (const month of monthsBetween(first, last)) {
    const exported = closed.get(month.key)
    if (exported === true) continue
    if (exported === false) {
      await exportToClickHouse(ctx, month)
      continue
    }
    if (oldestPending < month.end.getTime()) {
      result.deferred.push({
        month: month.key,
        reason: `${lag.backlog} telemetry events are still in the outbox, the oldest enqueued before the month ended`,
      })
      break
    }
    result.closed.push(await closeMonth(ctx, month, now))
  }
  return result
}

/** The latest closed month (YYYY-MM), null before the first close. */
/** Every month before this instant (UTC) is closed; null while no month is. */
export async function closedUntil(db: Queryable): Promise<Date | null> {
  const { rows } = await db.query<{ until: Date | null }>(SQL.closedUntil)
  return rows[0]?.until ?? null
}

export async function lastClosedMonth(db: Queryable): Promise<string | null> {
  const { rows } = await db.query<{ month: string | null }>(SQL.lastClosed)
  return rows[0]?.month ?? null
}
