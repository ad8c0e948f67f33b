// The monthly close: for every customer that existed in a past month and has no record for it,
// compute the month, apply the plan and write the immutable credit record (credits.ts). The
// scheduled job and POST /v1/sla/close take the same path (closeMonth), checks included.
//
// Guarantees:
// - idempotent and concurrent-safe: records are unique per (customer, month), so a second run, a
//   catch-up after downtime or two instances at once issue nothing twice;
// - every un-closed past month is closed (from sla.firstMonth or the first customer's month, and
//   not before the factory was first in service), oldest first, so a Steward that was down over a
//   month boundary catches up; a month with no minute in service is never closed;
// - a month is not closed while the telemetry outbox still holds events enqueued before the
//   month ended (ClickHouse outage, relay behind): it is deferred to the next run;
// - a month whose ClickHouse signal coverage disagrees with the witness (minutes an instance
//   served with no signal in ClickHouse: telemetry lost) is held, not closed, until an admin
//   releases it (holds.ts);
// - the month's profitability is frozen from those records (costs.ts) before the month is recorded
//   as closed, so a crash in between freezes it on the next run;
// - the ClickHouse copy (sla_monthly) is rewritten from the records until a write succeeds.
import type { Queryable } from '../db/postgres.ts'
import { ConflictError } from '../errors.ts'
import { type OutboxLag, outboxLag } from '../ingest/index.ts'
import type { SlaContext } from './context.ts'
import { freezeCosts } from './costs.ts'
import { creditedCustomers, issueCredit, listCredits, writeSlaMonthly } from './credits.ts'
import { customersOfMonth } from './customers.ts'
import { computeMonth } from './figures.ts'
import { getHold, recordHold } from './holds.ts'
import { loadLedgers } from './ledger.ts'
import { firstDay, type Month, monthOf, monthsBetween, parseMonth, previousMonth } from './months.ts'
import type { CloseResult } from './schemas/credits.ts'
import { anyInService, inServiceMask, loadService, serviceStart } from './service.ts'

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

type Attempt = CloseResult | { month: string; status: 'not_in_service' }

const outcome = (month: Month, status: CloseResult['status'], reason: string | null = null) => ({
  month: month.key,
  status,
  computed: 0,
  issued: 0,
  reason,
  hold: null,
})

/** The close of one past month, every check included; `lag` is the outbox as of this run. */
async function attemptClose(ctx: SlaContext, month: Month, now: Date, lag: OutboxLag): Promise<Attempt> {
  if (now < month.end) throw new ConflictError(`month ${month.key} has not ended yet; use a dry run instead`)
  const oldestPending =
    lag.backlog > 0 ? now.getTime() - lag.oldestAgeSeconds * 1000 : Number.POSITIVE_INFINITY
  if (oldestPending < month.end.getTime()) {
    return outcome(
      month,
      'deferred',
      `${lag.backlog} telemetry events are still in the outbox, the oldest enqueued before the month ended`,
    )
  }
  const existed = await customersOfMonth(ctx.tenants, month)
  const credited = await creditedCustomers(ctx.pool, month)
  const ids = existed.map((c) => c.id).filter((id) => !credited.has(id))
  const figures = await computeMonth(ctx, month, ids, { now })
  const { coverage, uptime } = figures.overall
  if (uptime.notInServiceMinutes === month.minutes) return { month: month.key, status: 'not_in_service' }
  const hold = await getHold(ctx.pool, month)
  if (hold?.status !== 'released' && (hold || coverage.missingMinutes > ctx.config.holdToleranceMinutes)) {
    const held = await recordHold(ctx.pool, month, coverage)
    ctx.log?.warn('sla month held: ClickHouse lacks signals for minutes the witness saw served', {
      month: month.key,
      unmeasuredMinutes: coverage.missingMinutes,
    })
    return {
      ...outcome(
        month,
        'held',
        `${coverage.missingMinutes} minutes served (witness) have no signal in ClickHouse; an admin must release the month`,
      ),
      hold: held ?? hold,
    }
  }
  let issued = 0
  for (const m of figures.customers) if (await issueCredit(ctx.pool, m, month)) issued++
  // The month's profitability, from the records just issued (costs.ts); before the month counts as closed.
  await freezeCosts(ctx, month, uptime, now)
  await ctx.pool.query(SQL.recordClose, [firstDay(month), existed.length])
  await exportToClickHouse(ctx, month)
  ctx.log?.info('sla month closed', { month: month.key, computed: ids.length, issued })
  return { ...outcome(month, 'closed'), computed: ids.length, issued, hold }
}

/**
 * Closes one past month now (the route, and each month of the scheduled job): deferred while the
 * outbox is behind, held on a coverage gap, else every customer without a record gets one.
 * ConflictError for a month that has not ended or had no minute in service.
 */
export async function closeMonth(ctx: SlaContext, month: Month, now = new Date()): Promise<CloseResult> {
  const r = await attemptClose(ctx, month, now, await outboxLag(ctx.pool))
  if (r.status === 'not_in_service') {
    const since = serviceStart(await loadService(ctx))
    throw new ConflictError(
      `month ${month.key} was not in service (${since ? `in service since ${since.toISOString()}` : 'the factory never served'}); it cannot be closed`,
    )
  }
  return r
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
  held: { month: string; reason: string }[]
}

/** Closes every past month that is not closed yet (the scheduled job). */
export async function closeDueMonths(ctx: SlaContext, now = new Date()): Promise<DueResult> {
  const result: DueResult = { closed: [], deferred: [], held: [] }
  const last = previousMonth(monthOf(now))
  let first: Month
  if (ctx.config.firstMonth) first = parseMonth(ctx.config.firstMonth)
  else {
    const customers = await ctx.tenants.customers()
    if (!customers.length) return result
    first = monthOf(new Date(customers.reduce((t, c) => Math.min(t, Date.parse(c.createdAt)), Infinity)))
  }
  // Never before the factory was first in service, nor more than three years back.
  const service = await loadService(ctx)
  const since = serviceStart(service)
  if (!since) return result
  if (first.start < monthOf(since).start) first = monthOf(since)
  const floor = monthOf(new Date(Date.UTC(now.getUTCFullYear() - 3, now.getUTCMonth(), 1)))
  if (first.start < floor.start) first = floor
  const { rows: done } = await ctx.pool.query<{ month: string; exported: boolean }>(SQL.listCloses)
  const closed = new Map(done.map((d) => [d.month, d.exported]))
  const lag = await outboxLag(ctx.pool)
  for (const month of monthsBetween(first, last)) {
    const exported = closed.get(month.key)
    if (exported === true) continue
    if (exported === false) {
      await exportToClickHouse(ctx, month)
      continue
    }
    if (!anyInService(inServiceMask(month, service))) continue
    const r = await attemptClose(ctx, month, now, lag)
    if (r.status === 'not_in_service') continue
    if (r.status === 'deferred') {
      // Later months wait for the same telemetry.
      result.deferred.push({ month: r.month, reason: r.reason! })
      break
    }
    if (r.status === 'held') result.held.push({ month: r.month, reason: r.reason! })
    else result.closed.push(r)
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
