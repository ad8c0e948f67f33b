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
import type { IncidentsConfig, RecoveryKind } from './config.ts'
import { addTimeline, type IncidentRow } from './store.ts'

export interface RecoveryPolicy {
  kinds: IncidentsConfig['recoveryKinds']
  /** The sla module's RTO targets. */
  rtoTargetSeconds: SlaModule['rtoTargetSeconds']
}

export type EstimateSource = 'rto_target' | 'operator'

/** The recovery kind of an incident: the one stored when it opened, else the config's for its rule. */
export function recoveryKindOf(
  row: Pick<IncidentRow, 'rule' | 'recovery_kind'>,
  p: RecoveryPolicy,
): RecoveryKind {
  if (row.recovery_kind) return row.recovery_kind
  return (p.kinds as Record<string, RecoveryKind>)[row.rule] ?? 'full_recovery'
}

/** The default estimate: opening + the RTO target of the incident's recovery kind. */
export function defaultEstimate(
  row: Pick<IncidentRow, 'rule' | 'recovery_kind' | 'opened_at'>,
  p: RecoveryPolicy,
) {
  const kind = recoveryKindOf(row, p)
  const targetSeconds = p.rtoTargetSeconds(kind)
  return { kind, targetSeconds, at: new Date(row.opened_at.getTime() + targetSeconds * 1000) }
}

/** The estimate in force: the stored one, else (incidents opened before estimates existed) the default. */
export function currentEstimate(
  row: Pick<
    IncidentRow,
    'rule' | 'recovery_kind' | 'opened_at' | 'estimated_recovery_at' | 'estimate_source'
  >,
  p: RecoveryPolicy,
): { at: Date; source: EstimateSource } {
  if (row.estimated_recovery_at)
    return { at: row.estimated_recovery_at, source: row.estimate_source ?? 'rto_target' }
  return { at: defaultEstimate(row, p).at, source: 'rto_target' }
}

/** Sets an incident's estimate and records it on the timeline (in the caller's transaction). */
export async function recordEstimate(
  db: Queryable,
  row: IncidentRow,
  estimate: Date,
  source: EstimateSource,
  at: Date,
  p: RecoveryPolicy,
): Promise<void> {
  const kind = recoveryKindOf(row, p)
  await db.query(
    'UPDATE incidents SET recovery_kind = $2, estimated_recovery_at = $3, estimate_source = $4 WHERE id = $1',
    [row.id, kind, estimate, source],
  )
  row.recovery_kind = kind
  row.estimated_recovery_at = estimate
  row.estimate_source = source
  const targetSeconds = p.rtoTargetSeconds(kind)
  await addTimeline(
    db,
    row.id,
    'estimate',
    source === 'operator'
      ? `estimated recovery by ${estimate.toISOString()} (operator)`
      : `estimated recovery by ${estimate.toISOString()} (RTO target of ${kind}: ${targetSeconds} s)`,
    { estimatedRecoveryAt: estimate.toISOString(), source, recoveryKind: kind, targetSeconds },
    at,
  )
}
