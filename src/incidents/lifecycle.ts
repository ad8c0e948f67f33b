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
import type { ClickHouseClient } from '../db/clickhouse.ts'
import { chQuery } from '../db/clickhouse.ts'
import type { PoolClient, Queryable } from '../db/postgres.ts'
import { appendEvents, type NewEvent, type recoveryKinds } from '../ingest/index.ts'
import { queueCustomerNotification } from '../notify/index.ts'
import { isHigher } from './burn.ts'
import { enqueuePagerDuty } from './deliveries.ts'
import { buildFollowUp, buildTrigger } from './pagerduty.ts'
import type { Finding } from './rules.ts'
import { customerFacing } from './rules.ts'
import { activeSilence, addTimeline, type IncidentRow } from './store.ts'

export interface LifecycleContext {
  clickhouse?: ClickHouseClient
  /** Paging on (a routing key is configured)? */
  paging: boolean
  source: string
  links(incidentId: string): { href: string; text: string }[]
}

const recoveryKindOf: Record<string, (typeof recoveryKinds)[number]> = {
  queue_without_workers: 'worker_recovery',
  worker_error_rate: 'worker_recovery',
  dlq_growth: 'worker_recovery',
  probe_failures: 'control_plane_failover',
  uptime_burn: 'control_plane_failover',
  success_rate_burn: 'run_resume',
  telemetry_lag: 'full_recovery',
}

/** Customers an incident on `scope` affects. */
export async function affectedCustomers(
  db: Queryable,
  clickhouse: ClickHouseClient | undefined,
  scope: string,
  at: Date,
): Promise<string[]> {
  if (scope.startsWith('customer:')) return [scope.slice('customer:'.length)].filter(Boolean)
  if (scope.startsWith('pool:') && clickhouse) {
    // Customers whose jobs ran in that pool over the last day.
    const rows = await chQuery<{ customer_id: string }>(
      clickhouse,
      `SELECT DISTINCT customer_id FROM jobs_1h
       WHERE pool = {pool:String} AND customer_id != '' AND hour >= toStartOfHour({at:DateTime('UTC')}) - INTERVAL 1 DAY
       ORDER BY customer_id`,
      { pool: scope.slice('pool:'.length), at: Math.floor(at.getTime() / 1000) },
    )
    return rows.map((r) => r.customer_id)
  }
  // The factory itself (uptime, probes, telemetry): every customer.
  const { rows } = await db.query<{ id: string }>('SELECT id FROM customers ORDER BY id')
  return rows.map((r) => r.id)
}

/** Incident telemetry: one event per affected customer (or one for the factory when none). */
function incidentEvents(
  row: IncidentRow,
  action: 'triggered' | 'acknowledged' | 'escalated' | 'resolved',
  at: Date,
  seq = '',
): NewEvent[] {
  const customers = row.customer_ids.length ? row.customer_ids : ['']
  return customers.map((customerId) => ({
    eventId: `${row.id}:${action}${seq}:${customerId || '-'}`,
    ts: at.toISOString(),
    type: 'incident',
    customerId,
    action,
    incidentId: row.id,
    rule: row.rule,
    severity: row.severity,
  }))
}

async function notifyCustomers(
  db: Queryable,
  row: IncidentRow,
  kind: string,
  key: string,
  message: string,
  at: Date,
  ctx: LifecycleContext,
): Promise<number> {
  if (!customerFacing.has(row.rule)) return 0
  // Telemetry may name customers not registered here: they have nowhere to be notified.
  const { rows: known } = await db.query<{ id: string }>(
    'SELECT id FROM customers WHERE id = ANY ($1::text[]) ORDER BY id',
    [row.customer_ids],
  )
  let queued = 0
  for (const { id: customerId } of known) {
    const ok = await queueCustomerNotification(db, {
      customerId,
      kind,
      dedupKey: `incident:${row.id}:${key}`,
      payload: {
        incidentId: row.id,
        status: row.status,
        severity: row.severity,
        summary: row.summary,
        message,
        openedAt: row.opened_at.toISOString(),
        resolvedAt: row.resolved_at?.toISOString() ?? null,
        at: at.toISOString(),
        links: Object.fromEntries(ctx.links(row.id).map((l) => [l.text, l.href])),
      },
    })
    if (ok) queued++
  }
  return queued
}

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
  const recovery: NewEvent[] = (
    row.scope === '' ? [''] : row.customer_ids.length ? row.customer_ids : ['']
  ).map((customerId) => ({
    eventId: `${row.id}:recovery:${customerId || '-'}`,
    ts: at.toISOString(),
    type: 'recovery',
    customerId,
    recoveryKind: recoveryKindOf[row.rule] ?? 'full_recovery',
    detectedAt: row.opened_at.toISOString(),
    recoveredAt: at.toISOString(),
  }))
  await appendEvents(db, [...incidentEvents(row, 'resolved', at), ...recovery])
  const n = await notifyCustomers(db, row, 'incident.resolved', 'resolved', 'The issue is resolved.', at, ctx)
  if (n)
    await addTimeline(db, row.id, 'notification', `"resolved" notice queued for ${n} customer(s)`, {}, at)
  if (row.paged && by !== 'pagerduty') {
    await enqueuePagerDuty(db, row.id, 'resolve', buildFollowUp('resolve', row.id))
    await addTimeline(db, row.id, 'notification', 'PagerDuty resolve queued', {}, at)
  }
  return true
}

/** Posts an operator's status update to the timeline and to every affected customer. */
export async function postUpdate(
  db: PoolClient,
  row: IncidentRow,
  message: string,
  at: Date,
  ctx: LifecycleContext,
): Promise<number> {
  const entry = await addTimeline(db, row.id, 'update', message, {}, at)
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
