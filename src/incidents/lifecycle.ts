// The incident lifecycle: triggered → acknowledged → resolved, each transition in one PostgreSQL
// transaction together with its timeline entry, its telemetry events, its customer notices and its
// queued PagerDuty event — so a crash leaves either all of them or none.
//
// Guarantees:
// - one open incident per (rule, scope): a partial unique index, and rows locked FOR UPDATE;
// - resolved is final: acknowledge/resolve only move forward (an ack racing an auto-resolve loses,
//   it never re-opens); a re-fire after resolution opens a new incident with a new dedup key;
// - a silenced incident is recorded and shown, never paged while the silence lasts; if it is still
//   open when the silence ends, it is paged then;
// - each PagerDuty action is queued once per incident (unique idempotency key in the outbox).
import { randomUUID } from 'node:crypto'
import type { PoolClient } from '../db/postgres.ts'
import { appendEvents } from '../ingest/index.ts'
import { isHigher } from './burn.ts'
import { enqueuePagerDuty } from './deliveries.ts'
import {
  affectedCustomers,
  incidentEvents,
  type LifecycleContext,
  notifyCustomers,
  recoveryEvents,
} from './effects.ts'
import { defaultEstimate, recordEstimate } from './estimates.ts'
import { buildFollowUp, buildTrigger } from './pagerduty.ts'
import type { Finding } from './rules.ts'
import { activeSilence, addTimeline, type IncidentRow } from './store.ts'

export type { LifecycleContext }

async function page(db: PoolClient, row: IncidentRow, ctx: LifecycleContext, at: Date): Promise<void> {
  const event = buildTrigger({
    incidentId: row.id,
    summary: row.summary,
    source: ctx.source,
    severity: row.severity,
    rule: row.rule,
    scope: row.scope,
    openedAt: row.opened_at,
    customers: row.customer_ids,
    details: row.details,
    links: ctx.links(row.id),
  })
  await enqueuePagerDuty(db, row.id, `trigger:${row.severity}`, event)
  await db.query('UPDATE incidents SET paged = true WHERE id = $1', [row.id])
  row.paged = true
  await addTimeline(db, row.id, 'notification', `PagerDuty trigger queued (severity ${row.severity})`, {}, at)
}

/** Pages an open incident that has not been paged yet, unless paging is off or a silence holds it. */
async function pageUnlessSilenced(
  db: PoolClient,
  row: IncidentRow,
  ctx: LifecycleContext,
  at: Date,
): Promise<void> {
  if (row.paged || row.status === 'resolved') return
  const silence = await activeSilence(db, row.rule, row.scope, at)
  if (silence) {
    if (!row.silenced) {
      await db.query('UPDATE incidents SET silenced = true WHERE id = $1', [row.id])
      row.silenced = true
      await addTimeline(
        db,
        row.id,
        'silence',
        `not paged: silence ${silence.id} (${silence.reason})`,
        { silenceId: silence.id },
        at,
      )
    }
    return
  }
  if (!ctx.paging) return
  if (row.silenced)
    await addTimeline(db, row.id, 'silence', 'silence over and still open: paging now', {}, at)
  await page(db, row, ctx, at)
}

/** Opens an incident for a finding. Returns undefined when one is already open (the caller holds no lock). */
export async function openIncident(
  db: PoolClient,
  rule: string,
  f: Finding,
  conditionSince: Date,
  at: Date,
  ctx: LifecycleContext,
): Promise<IncidentRow | undefined> {
  const customers = await affectedCustomers(db, ctx.clickhouse, f.scope, at)
  const id = `inc_${randomUUID()}`
  const { rows } = await db.query<IncidentRow>(
    `INSERT INTO incidents (id, rule, scope, severity, status, summary, customer_ids, details,
                            condition_since, opened_at, last_firing_at)
     VALUES ($1, $2, $3, $4, 'triggered', $5, $6, $7, $8, $9, $9)
     ON CONFLICT (rule, scope) WHERE status <> 'resolved' DO NOTHING RETURNING *`,
    [id, rule, f.scope, f.severity, f.summary, customers, JSON.stringify(f.details), conditionSince, at],
  )
  const row = rows[0]
  if (!row) return undefined
  await addTimeline(
    db,
    id,
    'transition',
    `triggered: ${f.summary}`,
    { severity: f.severity, details: f.details },
    at,
  )
  await appendEvents(db, incidentEvents(row, 'triggered', at))
  await recordEstimate(db, row, defaultEstimate(row, ctx.recovery).at, 'rto_target', at, ctx.recovery)
  const n = await notifyCustomers(
    db,
    row,
    'incident.investigating',
    'investigating',
    'We are investigating an issue affecting your runs.',
    at,
    ctx,
  )
  if (n)
    await addTimeline(db, id, 'notification', `"investigating" notice queued for ${n} customer(s)`, {}, at)
  if (!ctx.paging) await addTimeline(db, id, 'note', 'paging disabled (no PagerDuty routing key)', {}, at)
  await pageUnlessSilenced(db, row, ctx, at)
  return row
}

/** Records a firing evaluation on an open incident: raises severity, pages if not paged yet. */
export async function stillFiring(
  db: PoolClient,
  row: IncidentRow,
  f: Finding,
  at: Date,
  ctx: LifecycleContext,
): Promise<void> {
  const escalate = isHigher(f.severity, row.severity)
  await db.query(
    `UPDATE incidents SET last_firing_at = $2, cleared_since = NULL, details = $3,
            severity = CASE WHEN $4 THEN $5 ELSE severity END
     WHERE id = $1`,
    [row.id, at, JSON.stringify(f.details), escalate, f.severity],
  )
  await addTimeline(
    db,
    row.id,
    'evaluation',
    row.cleared_since ? 'firing again' : 'still firing',
    { details: f.details },
    at,
  )
  if (escalate) {
    const from = row.severity
    row.severity = f.severity
    await addTimeline(db, row.id, 'transition', `escalated: ${from} → ${f.severity}`, {}, at)
    await appendEvents(db, incidentEvents(row, 'escalated', at, `:${f.severity}`))
    // A trigger with the same dedup key updates the open PagerDuty alert's severity.
    if (row.paged) await page(db, row, ctx, at)
  }
  await pageUnlessSilenced(db, row, ctx, at)
}

/** Records a clear evaluation; resolves once clear for `resolveAfterMs`. */
export async function nowClear(
  db: PoolClient,
  row: IncidentRow,
  at: Date,
  resolveAfterMs: number,
  ctx: LifecycleContext,
): Promise<boolean> {
  const since = row.cleared_since ?? at
  if (!row.cleared_since)
    await db.query('UPDATE incidents SET cleared_since = $2 WHERE id = $1', [row.id, at])
  const clearFor = at.getTime() - since.getTime()
  await addTimeline(db, row.id, 'evaluation', `condition clear for ${Math.round(clearFor / 1000)} s`, {}, at)
  if (clearFor < resolveAfterMs) return false
  await resolveLocked(db, row, 'auto', at, ctx)
  return true
}

/** Moves a locked open incident to acknowledged. `by` 'pagerduty' does not echo back to PagerDuty. */
export async function acknowledgeLocked(
  db: PoolClient,
  row: IncidentRow,
  by: string,
  at: Date,
): Promise<boolean> {
  if (row.status !== 'triggered') return false
  const { rows } = await db.query<IncidentRow>(
    `UPDATE incidents SET status = 'acknowledged', acknowledged_at = $2 WHERE id = $1 AND status = 'triggered' RETURNING *`,
    [row.id, at],
  )
  if (!rows[0]) return false
  Object.assign(row, rows[0])
  await addTimeline(db, row.id, 'transition', `acknowledged by ${by}`, { by }, at)
  await appendEvents(db, incidentEvents(row, 'acknowledged', at))
  if (row.paged && by !== 'pagerduty') {
    await enqueuePagerDuty(db, row.id, 'acknowledge', buildFollowUp('acknowledge', row.id))
    await addTimeline(db, row.id, 'notification', 'PagerDuty acknowledge queued', {}, at)
  }
  return true
}

/** Resolves a locked open incident: notices, recovery telemetry and the PagerDuty resolve. */
export async function resolveLocked(
  db: PoolClient,
  row: IncidentRow,
  by: string,
  at: Date,
  ctx: LifecycleContext,
): Promise<boolean> {
  if (row.status === 'resolved') return false
  const { rows } = await db.query<IncidentRow>(
    `UPDATE incidents SET status = 'resolved', resolved_at = $2, resolved_by = $3 WHERE id = $1 AND status <> 'resolved' RETURNING *`,
    [row.id, at, by],
  )
  if (!rows[0]) return false
  Object.assign(row, rows[0])
  await db.query('DELETE FROM incident_rule_state WHERE rule = $1 AND scope = $2', [row.rule, row.scope])
  await addTimeline(db, row.id, 'transition', `resolved by ${by}`, { by }, at)
  await appendEvents(db, [...incidentEvents(row, 'resolved', at), ...recoveryEvents(row, at, ctx)])
  const n = await notifyCustomers(db, row, 'incident.resolved', 'resolved', 'The issue is resolved.', at, ctx)
  if (n)
    await addTimeline(db, row.id, 'notification', `"resolved" notice queued for ${n} customer(s)`, {}, at)
  if (row.paged && by !== 'pagerduty') {
    await enqueuePagerDuty(db, row.id, 'resolve', buildFollowUp('resolve', row.id))
    await addTimeline(db, row.id, 'notification', 'PagerDuty resolve queued', {}, at)
  }
  return true
}

/**
 * Posts an operator's status update to the timeline and to every affected customer; an update may
 * carry a new recovery estimate (recorded before the notice, so the notice carries it).
 */
export async function postUpdate(
  db: PoolClient,
  row: IncidentRow,
  message: string,
  at: Date,
  ctx: LifecycleContext,
  estimatedRecoveryAt?: Date,
): Promise<number> {
  if (estimatedRecoveryAt) await recordEstimate(db, row, estimatedRecoveryAt, 'operator', at, ctx.recovery)
  const entry = await addTimeline(
    db,
    row.id,
    'update',
    message,
    estimatedRecoveryAt ? { estimatedRecoveryAt: estimatedRecoveryAt.toISOString() } : {},
    at,
  )
  const n = await notifyCustomers(db, row, 'incident.update', `update:${entry}`, message, at, ctx)
  if (n)
    await addTimeline(
      db,
      row.id,
      'notification',
      `update queued for ${n} customer(s)`,
      { updateId: entry },
      at,
    )
  return n
}
