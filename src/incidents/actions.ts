// What operators do to one incident, through the API or in PagerDuty (its webhook): each action
// locks the incident in its own transaction and takes one lifecycle step (lifecycle.ts). Errors
// are coded (src/errors.ts): NotFoundError for an unknown incident, ConflictError when its state
// does not allow the step.
import { type Pool, type PoolClient, transaction } from '../db/postgres.ts'
import { ConflictError, NotFoundError } from '../errors.ts'
import { acknowledgeLocked, type LifecycleContext, postUpdate, resolveLocked } from './lifecycle.ts'
import type { Incident, PostIncidentFields, WebhookOutcome } from './schemas.ts'
import { annotateIncident, lockIncident } from './store.ts'
import { addTimeline } from './timeline.ts'

/** Runs `fn` on the incident, locked in a transaction (NotFoundError when there is none). */
async function onLocked<T>(
  pool: Pool,
  id: string,
  fn: (db: PoolClient, i: Incident) => Promise<T>,
): Promise<T> {
  return transaction(pool, async (db) => {
    const i = await lockIncident(db, id)
    if (!i) throw new NotFoundError(`incident ${id}`)
    return fn(db, i)
  })
}

/** Triggered → acknowledged by an operator (mirrored to PagerDuty); ConflictError otherwise. */
export function acknowledge(pool: Pool, id: string): Promise<Incident> {
  return onLocked(pool, id, async (db, i) => {
    const status = i.status
    if (!(await acknowledgeLocked(db, i, 'operator', new Date())))
      throw new ConflictError(`incident ${id} is ${status}; it cannot be acknowledged`)
    return i
  })
}

/** Open → resolved by an operator (PagerDuty resolve, notices, recovery event); ConflictError when resolved. */
export function resolve(pool: Pool, id: string, ctx: LifecycleContext): Promise<Incident> {
  return onLocked(pool, id, async (db, i) => {
    const status = i.status
    if (!(await resolveLocked(db, i, 'operator', new Date(), ctx)))
      throw new ConflictError(`incident ${id} is ${status}; it cannot be resolved`)
    return i
  })
}

/**
 * An operator's status update (optionally with a new recovery estimate) for the timeline and every
 * affected customer; returns the notices queued. A resolved incident takes no estimate (ConflictError).
 */
export function update(
  pool: Pool,
  id: string,
  message: string,
  estimatedRecoveryAt: Date | undefined,
  ctx: LifecycleContext,
): Promise<number> {
  return onLocked(pool, id, (db, i) => {
    if (estimatedRecoveryAt && i.status === 'resolved')
      throw new ConflictError(`incident ${id} is resolved; it takes no recovery estimate`)
    return postUpdate(db, i, message, new Date(), ctx, estimatedRecoveryAt)
  })
}

/** Fills in the post-incident fields given, noting it on the timeline. */
export function annotate(pool: Pool, id: string, fields: PostIncidentFields): Promise<Incident> {
  return onLocked(pool, id, async (db) => {
    const i = (await annotateIncident(db, id, fields))!
    await addTimeline(db, id, 'note', `post-incident fields updated: ${Object.keys(fields).join(', ')}`)
    return i
  })
}

/**
 * Mirrors an event of PagerDuty's on the incident whose id is its dedup key, without echoing it
 * back: acknowledged and resolved change the incident, other types are noted on its timeline, and
 * an unknown incident is ignored.
 */
export async function mirrorPagerDuty(
  pool: Pool,
  incidentId: string,
  eventType: string,
  pagerdutyIncident: string | undefined,
  ctx: LifecycleContext,
): Promise<WebhookOutcome['status']> {
  return transaction(pool, async (db) => {
    const i = await lockIncident(db, incidentId)
    if (!i) return 'ignored'
    const at = new Date()
    if (eventType === 'incident.acknowledged')
      return (await acknowledgeLocked(db, i, 'pagerduty', at)) ? 'acknowledged' : 'unchanged'
    if (eventType === 'incident.resolved')
      return (await resolveLocked(db, i, 'pagerduty', at, ctx)) ? 'resolved' : 'unchanged'
    await addTimeline(
      db,
      i.id,
      'note',
      `PagerDuty: ${eventType}`,
      { pagerdutyIncident: pagerdutyIncident ?? null },
      at,
    )
    return 'noted'
  })
}
