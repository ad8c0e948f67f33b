// Recovery estimates: when an open incident is expected to be resolved, for the status page and
// customer notices, and compared with the actual recovery in the post-incident report.
//
// Guarantees:
// - every incident gets an estimate when it opens: opening + the RTO target (the sla module's
//   rtoTargetSeconds) of the recovery kind its rule maps to (incidents.recoveryKinds); the kind is stored with the
//   incident, so its recovery event and its estimate use the same kind even if the config changes;
// - an operator's update may replace the estimate; each estimate, the first and every revision,
//   is on the timeline (kind 'estimate') in the transaction that sets it.
import type { Queryable } from '../db/postgres.ts'
import type { SlaModule } from '../sla/index.ts'
import type { IncidentsConfig } from './config.ts'
import type { EstimateSource, Incident, RecoveryKind } from './schemas.ts'
import { setEstimate } from './store.ts'
import { addTimeline } from './timeline.ts'

export interface RecoveryPolicy {
  kinds: IncidentsConfig['recoveryKinds']
  /** The sla module's RTO targets. */
  rtoTargetSeconds: SlaModule['rtoTargetSeconds']
}

/** The recovery kind of an incident: the one stored when it opened, else the config's for its rule. */
export function recoveryKindOf(i: Pick<Incident, 'rule' | 'recoveryKind'>, p: RecoveryPolicy): RecoveryKind {
  if (i.recoveryKind) return i.recoveryKind
  return (p.kinds as Record<string, RecoveryKind>)[i.rule] ?? 'full_recovery'
}

/** The default estimate: opening + the RTO target of the incident's recovery kind. */
export function defaultEstimate(i: Pick<Incident, 'rule' | 'recoveryKind' | 'openedAt'>, p: RecoveryPolicy) {
  const kind = recoveryKindOf(i, p)
  const targetSeconds = p.rtoTargetSeconds(kind)
  return { kind, targetSeconds, at: new Date(Date.parse(i.openedAt) + targetSeconds * 1000) }
}

/** The estimate in force: the stored one, else (incidents opened before estimates existed) the default. */
export function currentEstimate(
  i: Pick<Incident, 'rule' | 'recoveryKind' | 'openedAt' | 'estimatedRecoveryAt' | 'estimateSource'>,
  p: RecoveryPolicy,
): { at: Date; source: EstimateSource } {
  if (i.estimatedRecoveryAt)
    return { at: new Date(i.estimatedRecoveryAt), source: i.estimateSource ?? 'rto_target' }
  return { at: defaultEstimate(i, p).at, source: 'rto_target' }
}

/** Sets an incident's estimate and records it on the timeline (in the caller's transaction). */
export async function recordEstimate(
  db: Queryable,
  i: Incident,
  estimate: Date,
  source: EstimateSource,
  at: Date,
  p: RecoveryPolicy,
): Promise<void> {
  const kind = recoveryKindOf(i, p)
  await setEstimate(db, i.id, kind, estimate, source)
  i.recoveryKind = kind
  i.estimatedRecoveryAt = estimate.toISOString()
  i.estimateSource = source
  const targetSeconds = p.rtoTargetSeconds(kind)
  await addTimeline(
    db,
    i.id,
    'estimate',
    source === 'operator'
      ? `estimated recovery by ${estimate.toISOString()} (operator)`
      : `estimated recovery by ${estimate.toISOString()} (RTO target of ${kind}: ${targetSeconds} s)`,
    { estimatedRecoveryAt: estimate.toISOString(), source, recoveryKind: kind, targetSeconds },
    at,
  )
}
