// What the public status page may know of incidents and paging (read by src/status through
// index.ts).
//
// Guarantees: a public incident is one of the shared platform — the factory, a probe or a worker
// pool — raised by a customer-facing rule; customer-scoped incidents are told to their customer
// only (notices). A public incident carries no affected customers, no rule details and no internal
// summary (those name customers and their figures): only its rule, scope, times, the estimate in
// force, the operators' updates and the post-incident fields.
import type { Pool, Queryable } from '../db/postgres.ts'
import type { RecoveryKind, Severity } from './config.ts'
import { currentEstimate, type EstimateSource, type RecoveryPolicy } from './estimates.ts'
import { customerFacing } from './rules.ts'
import { type IncidentRow, type IncidentStatus, toIncident } from './store.ts'

export interface PublicIncident {
  id: string
  rule: string
  /** '' (the factory), 'probe:<target>' or 'pool:<name>'. */
  scope: string
  severity: Severity
  status: IncidentStatus
  openedAt: string
  acknowledgedAt: string | null
  resolvedAt: string | null
  recoveryKind: RecoveryKind | null
  estimatedRecoveryAt: string
  estimateSource: EstimateSource
  /** Operators' updates, oldest first. */
  updates: { at: string; message: string }[]
  rootCause: string | null
  prevention: string | null
}

export interface PagingHealth {
  /** A PagerDuty routing key is configured. */
  enabled: boolean
  /** PagerDuty events waiting to be delivered, and the age of the oldest. */
  pending: number
  oldestPendingSeconds: number
  /** Pending events whose last attempt failed (PagerDuty or the network answered badly). */
  retrying: number
  /** Events PagerDuty refused in the last day (not retried). */
  rejectedLastDay: number
  lastDeliveredAt: string | null
}

const SQL = {
  publicIncidents: `
    SELECT * FROM incidents
    WHERE (status <> 'resolved' OR resolved_at >= $1) AND rule = ANY ($2::text[]) AND scope NOT LIKE 'customer:%'
    ORDER BY opened_at DESC, id LIMIT $3`,
  publicUpdates: `
    SELECT incident_id, at, message FROM incident_timeline
    WHERE incident_id = ANY ($1::text[]) AND kind = 'update' ORDER BY id`,
  paging: `
    SELECT count(*) FILTER (WHERE status = 'pending')::int AS pending,
           coalesce(extract(epoch FROM now() - min(created_at) FILTER (WHERE status = 'pending')), 0)::float8 AS oldest,
           count(*) FILTER (WHERE status = 'pending' AND attempts > 0)::int AS retrying,
           count(*) FILTER (WHERE status = 'rejected' AND finished_at > now() - interval '1 day')::int AS rejected,
           max(finished_at) FILTER (WHERE status = 'delivered') AS last_delivered
    FROM incident_deliveries WHERE channel = 'pagerduty'`,
}

/** Open public incidents and those resolved since `since`, newest first. */
export async function listPublicIncidents(
  pool: Pool,
  policy: RecoveryPolicy,
  opts: { since: Date; limit: number },
): Promise<PublicIncident[]> {
  const { rows } = await pool.query<IncidentRow>(SQL.publicIncidents, [
    opts.since,
    [...customerFacing],
    opts.limit,
  ])
  const updates = await publicUpdates(
    pool,
    rows.map((r) => r.id),
  )
  return rows.map((r) => ({ ...incidentFacts(r, policy), updates: updates.get(r.id) ?? [] }))
}

/** What anyone told of an incident may know: no affected customers, no details, no summary. */
export type IncidentFacts = Omit<PublicIncident, 'updates'>

export function incidentFacts(r: IncidentRow, policy: RecoveryPolicy): IncidentFacts {
  const estimate = currentEstimate(r, policy)
  const i = toIncident(r)
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
    rootCause: i.rootCause,
    prevention: i.prevention,
  }
}

async function publicUpdates(db: Queryable, ids: string[]) {
  const out = new Map<string, { at: string; message: string }[]>()
  if (!ids.length) return out
  const { rows } = await db.query<{ incident_id: string; at: Date; message: string }>(SQL.publicUpdates, [
    ids,
  ])
  for (const r of rows) {
    const list = out.get(r.incident_id) ?? []
    list.push({ at: r.at.toISOString(), message: r.message })
    out.set(r.incident_id, list)
  }
  return out
}

/** The state of paging: configured, and how the PagerDuty delivery outbox is doing. */
export async function pagingHealth(pool: Pool, enabled: boolean): Promise<PagingHealth> {
  const { rows } = await pool.query<{
    pending: number
    oldest: number
    retrying: number
    rejected: number
    last_delivered: Date | null
  }>(SQL.paging)
  const r = rows[0]!
  return {
    enabled,
    pending: r.pending,
    oldestPendingSeconds: Math.max(0, r.oldest),
    retrying: r.retrying,
    rejectedLastDay: r.rejected,
    lastDeliveredAt: r.last_delivered?.toISOString() ?? null,
  }
}
