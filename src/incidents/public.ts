// What the public status page may know of incidents and paging (read by src/status through
// index.ts).
//
// Guarantees: a public incident is one of the shared platform — the factory, a probe or a worker
// pool — raised by a customer-facing rule; customer-scoped incidents are told to their customer
// only (notices). A public incident carries no affected customers, no rule details and no internal
// summary (those name customers and their figures): only its rule, scope, times, the estimate in
// force, the operators' updates and the post-incident fields.
import type { Queryable } from '../db/postgres.ts'
import { currentEstimate, type RecoveryPolicy } from './estimates.ts'
import { pagerDutyFigures } from './outbox.ts'
import { customerFacing } from './rules.ts'
import type { PagingHealth, PublicIncident } from './schemas.ts'
import { listPlatformIncidents } from './store.ts'
import { updatesOf } from './timeline.ts'

/** Open public incidents and those resolved since `since`, newest first. */
export async function listPublicIncidents(
  db: Queryable,
  policy: RecoveryPolicy,
  opts: { since: Date; limit: number },
): Promise<PublicIncident[]> {
  const incidents = await listPlatformIncidents(db, [...customerFacing], opts)
  const updates = await updatesOf(
    db,
    incidents.map((i) => i.id),
  )
  return incidents.map((i) => {
    const estimate = currentEstimate(i, policy)
    return {
      id: i.id,
      rule: i.rule,
      scope: i.scope,
      severity: i.severity,
      status: i.status,
      openedAt: i.openedAt,
      acknowledgedAt: i.acknowledgedAt,
      resolvedAt: i.resolvedAt,
      recoveryKind: i.recoveryKind,
      estimatedRecoveryAt: estimate.at.toISOString(),
      estimateSource: estimate.source,
      updates: updates.get(i.id) ?? [],
      rootCause: i.rootCause,
      prevention: i.prevention,
    }
  })
}

/** The state of paging: configured, and how the PagerDuty delivery outbox is doing. */
export async function pagingHealth(db: Queryable, enabled: boolean): Promise<PagingHealth> {
  return { enabled, ...(await pagerDutyFigures(db)) }
}
