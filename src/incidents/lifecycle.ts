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
// - each PagerDuty action is queued once per incident (unique idempotency key in the outbox);
// - a ticket-level incident (a burn-rate pair with action 'ticket') is recorded and shown, never
//   paged and no customer notified; it pages (and notifies) once a page-level pair fires.
import { randomUUID } from 'node:crypto'
import type { PoolClient } from '../db/postgres.ts'
import { appendEvents } from '../ingest/index.ts'
import { isHigher } from './burn.ts'
import {
  affectedCustomers,
  incidentEvents,
  type LifecycleContext,
  notifyCustomers,
  recoveryEvents,
} from './effects.ts'
import { defaultEstimate, recordEstimate } from './estimates.ts'
import { enqueuePagerDuty } from './outbox.ts'
import { buildFollowUp, buildTrigger } from './pagerduty.ts'
import { forgetScope } from './rule-state.ts'
import type { Finding } from './rules.ts'
import type { Incident } from './schemas.ts'
import { activeSilence } from './silences.ts'
import {
  insertIncident,
  markCleared,
  markPaged,
  markSilenced,
  recordFiring,
  setAcknowledged,
  setResolved,
} from './store.ts'
import { addTimeline } from './timeline.ts'

export type { LifecycleContext }

async function page(db: PoolClient, i: Incident, ctx: LifecycleContext, at: Date): Promise<void> {
  const event = buildTrigger({
    incidentId: i.id,
    summary: i.summary,
    source: ctx.source,
    severity: i.severity,
    rule: i.rule,
    scope: i.scope,
    openedAt: new Date(i.openedAt),
    customers: i.customerIds,
    details: i.details,
    links: ctx.links(i.id),
  })
  await enqueuePagerDuty(db, i.id, `trigger:${i.severity}`, event)
  await markPaged(db, i.id)
  i.paged = true
  await addTimeline(db, i.id, 'notification', `PagerDuty trigger queued (severity ${i.severity})`, {}, at)
}

/** Whether the incident's latest firing was a ticket-level burn-rate pair (recorded, not paged). */
const isTicket = (i: Pick<Incident, 'details'>) => i.details.alert === 'ticket'

/** Pages an open incident that has not been paged yet, unless paging is off or a silence holds it. */
async function pageUnlessSilenced(
  db: PoolClient,
  i: Incident,
  ctx: LifecycleContext,
  at: Date,
): Promise<void> {
  if (i.paged || i.status === 'resolved' || isTicket(i)) return
  const silence = await activeSilence(db, i.rule, i.scope, at)
  if (silence) {
    if (!i.silenced) {
      await markSilenced(db, i.id)
      i.silenced = true
      await addTimeline(
        db,
        i.id,
        'silence',
        `not paged: silence ${silence.id} (${silence.reason})`,
        { silenceId: silence.id },
        at,
      )
    }
    return
  }
  if (!ctx.paging) return
  if (i.silenced) await addTimeline(db, i.id, 'silence', 'silence over and still open: paging now', {}, at)
  await page(db, i, ctx, at)
}

/** Opens an incident for a finding. Returns undefined when one is already open (the caller holds no lock). */
export async function openIncident(
  db: PoolClient,
  rule: string,
  f: Finding,
  conditionSince: Date,
  at: Date,
  ctx: LifecycleContext,
): Promise<Incident | undefined> {
  const customers = await affectedCustomers(db, ctx, f.scope, at)
  const id = `inc_${randomUUID()}`
  const i = await insertIncident(db, {
    id,
    rule,
    scope: f.scope,
    severity: f.severity,
    summary: f.summary,
    customerIds: customers,
    details: f.details,
    conditionSince,
    openedAt: at,
  })
  if (!i) return undefined
  await addTimeline(
    db,
    id,
    'transition',
    `triggered: ${f.summary}`,
    { severity: f.severity, details: f.details },
    at,
  )
  await appendEvents(db, incidentEvents(i, 'triggered', at))
  await recordEstimate(db, i, defaultEstimate(i, ctx.recovery).at, 'rto_target', at, ctx.recovery)
  if (isTicket(i)) {
    await addTimeline(
      db,
      id,
      'note',
      'ticket-level window: recorded, not paged, no customer notified',
      {},
      at,
    )
    return i
  }
  await noticeInvestigating(db, i, at, ctx)
  if (!ctx.paging) await addTimeline(db, id, 'note', 'paging disabled (no PagerDuty routing key)', {}, at)
  await pageUnlessSilenced(db, i, ctx, at)
  return i
}

/** Tells the affected customers an incident is being investigated (once: the notice's key). */
async function noticeInvestigating(db: PoolClient, i: Incident, at: Date, ctx: LifecycleContext) {
  const message = 'We are investigating an issue affecting your runs.'
  const n = await notifyCustomers(db, i, 'incident.investigating', 'investigating', message, at, ctx)
  if (n)
    await addTimeline(db, i.id, 'notification', `"investigating" notice queued for ${n} customer(s)`, {}, at)
}

/** Records a firing evaluation on an open incident: raises severity, pages if not paged yet. */
export async function stillFiring(
  db: PoolClient,
  i: Incident,
  f: Finding,
  at: Date,
  ctx: LifecycleContext,
): Promise<void> {
  const escalate = isHigher(f.severity, i.severity)
  const wasTicket = isTicket(i)
  await recordFiring(db, i.id, at, f.details, escalate ? f.severity : undefined)
  i.details = f.details
  await addTimeline(
    db,
    i.id,
    'evaluation',
    i.clearedSince ? 'firing again' : 'still firing',
    { details: f.details },
    at,
  )
  if (escalate) {
    const from = i.severity
    i.severity = f.severity
    await addTimeline(db, i.id, 'transition', `escalated: ${from} → ${f.severity}`, {}, at)
    await appendEvents(db, incidentEvents(i, 'escalated', at, `:${f.severity}`))
    // A trigger with the same dedup key updates the open PagerDuty alert's severity.
    if (i.paged) await page(db, i, ctx, at)
  }
  // From a ticket to a page: the customers hear of it now (the notice's key makes it once).
  if (wasTicket && !isTicket(i)) {
    await noticeInvestigating(db, i, at, ctx)
  }
  await pageUnlessSilenced(db, i, ctx, at)
}

/** Records a clear evaluation; resolves once clear for `resolveAfterMs`. */
export async function nowClear(
  db: PoolClient,
  i: Incident,
  at: Date,
  resolveAfterMs: number,
  ctx: LifecycleContext,
): Promise<boolean> {
  const since = i.clearedSince ? new Date(i.clearedSince) : at
  if (!i.clearedSince) await markCleared(db, i.id, at)
  const clearFor = at.getTime() - since.getTime()
  await addTimeline(db, i.id, 'evaluation', `condition clear for ${Math.round(clearFor / 1000)} s`, {}, at)
  if (clearFor < resolveAfterMs) return false
  await resolveLocked(db, i, 'auto', at, ctx)
  return true
}

/** Moves a locked open incident to acknowledged. `by` 'pagerduty' does not echo back to PagerDuty. */
export async function acknowledgeLocked(db: PoolClient, i: Incident, by: string, at: Date): Promise<boolean> {
  if (i.status !== 'triggered') return false
  const updated = await setAcknowledged(db, i.id, at)
  if (!updated) return false
  Object.assign(i, updated)
  await addTimeline(db, i.id, 'transition', `acknowledged by ${by}`, { by }, at)
  await appendEvents(db, incidentEvents(i, 'acknowledged', at))
  if (i.paged && by !== 'pagerduty') {
    await enqueuePagerDuty(db, i.id, 'acknowledge', buildFollowUp('acknowledge', i.id))
    await addTimeline(db, i.id, 'notification', 'PagerDuty acknowledge queued', {}, at)
  }
  return true
}

/** Resolves a locked open incident: notices, recovery telemetry and the PagerDuty resolve. */
export async function resolveLocked(
  db: PoolClient,
  i: Incident,
  by: string,
  at: Date,
  ctx: LifecycleContext,
): Promise<boolean> {
  if (i.status === 'resolved') return false
  const updated = await setResolved(db, i.id, at, by)
  if (!updated) return false
  Object.assign(i, updated)
  await forgetScope(db, i.rule, i.scope)
  await addTimeline(db, i.id, 'transition', `resolved by ${by}`, { by }, at)
  await appendEvents(db, [...incidentEvents(i, 'resolved', at), ...recoveryEvents(i, at, ctx)])
  const n = await notifyCustomers(db, i, 'incident.resolved', 'resolved', 'The issue is resolved.', at, ctx)
  if (n) await addTimeline(db, i.id, 'notification', `"resolved" notice queued for ${n} customer(s)`, {}, at)
  if (i.paged && by !== 'pagerduty') {
    await enqueuePagerDuty(db, i.id, 'resolve', buildFollowUp('resolve', i.id))
    await addTimeline(db, i.id, 'notification', 'PagerDuty resolve queued', {}, at)
  }
  return true
}

/**
 * Posts an operator's status update to the timeline and to every affected customer; an update may
 * carry a new recovery estimate (recorded before the notice, so the notice carries it).
 */
export async function postUpdate(
  db: PoolClient,
  i: Incident,
  message: string,
  at: Date,
  ctx: LifecycleContext,
  estimatedRecoveryAt?: Date,
): Promise<number> {
  if (estimatedRecoveryAt) await recordEstimate(db, i, estimatedRecoveryAt, 'operator', at, ctx.recovery)
  const entry = await addTimeline(
    db,
    i.id,
    'update',
    message,
    estimatedRecoveryAt ? { estimatedRecoveryAt: estimatedRecoveryAt.toISOString() } : {},
    at,
  )
  const n = await notifyCustomers(db, i, 'incident.update', `update:${entry}`, message, at, ctx)
  if (n)
    await addTimeline(db, i.id, 'notification', `update queued for ${n} customer(s)`, { updateId: entry }, at)
  return n
}
