// Incident records in PostgreSQL: types, row mapping, reads and the timeline.
import type { Queryable } from '../db/postgres.ts'
import type { RecoveryKind, Severity } from './config.ts'

export type IncidentStatus = 'triggered' | 'acknowledged' | 'resolved'

export interface Incident {
  id: string
  rule: string
  scope: string
  severity: Severity
  status: IncidentStatus
  summary: string
  customerIds: string[]
  details: Record<string, unknown>
  conditionSince: string
  openedAt: string
  acknowledgedAt: string | null
  resolvedAt: string | null
  resolvedBy: string | null
  lastFiringAt: string
  clearedSince: string | null
  paged: boolean
  silenced: boolean
  rootCause: string | null
  prevention: string | null
  /** The recovery kind its rule maps to (its RTO target is the default estimate). */
  recoveryKind: RecoveryKind | null
  /** When recovery is expected (docs/incidents.md, "Recovery estimates"). */
  estimatedRecoveryAt: string | null
  estimateSource: 'rto_target' | 'operator' | null
}

export interface TimelineEntry {
  id: number
  at: string
  kind: string
  message: string
  detail: Record<string, unknown>
}

export interface IncidentRow {
  id: string
  rule: string
  scope: string
  severity: Severity
  status: IncidentStatus
  summary: string
  customer_ids: string[]
  details: Record<string, unknown>
  condition_since: Date
  opened_at: Date
  acknowledged_at: Date | null
  resolved_at: Date | null
  resolved_by: string | null
  last_firing_at: Date
  cleared_since: Date | null
  paged: boolean
  silenced: boolean
  root_cause: string | null
  prevention: string | null
  recovery_kind: RecoveryKind | null
  estimated_recovery_at: Date | null
  estimate_source: 'rto_target' | 'operator' | null
}

const iso = (d: Date | null) => (d ? d.toISOString() : null)

export function toIncident(r: IncidentRow): Incident {
  return {
    id: r.id,
    rule: r.rule,
    scope: r.scope,
    severity: r.severity,
    status: r.status,
    summary: r.summary,
    customerIds: r.customer_ids,
    details: r.details,
    conditionSince: r.condition_since.toISOString(),
    openedAt: r.opened_at.toISOString(),
    acknowledgedAt: iso(r.acknowledged_at),
    resolvedAt: iso(r.resolved_at),
    resolvedBy: r.resolved_by,
    lastFiringAt: r.last_firing_at.toISOString(),
    clearedSince: iso(r.cleared_since),
    paged: r.paged,
    silenced: r.silenced,
    rootCause: r.root_cause,
    prevention: r.prevention,
    recoveryKind: r.recovery_kind,
    estimatedRecoveryAt: iso(r.estimated_recovery_at),
    estimateSource: r.estimate_source,
  }
}

export const SQL = {
  get: 'SELECT * FROM incidents WHERE id = $1',
  getForUpdate: 'SELECT * FROM incidents WHERE id = $1 FOR UPDATE',
  openFor: `SELECT * FROM incidents WHERE rule = $1 AND scope = $2 AND status <> 'resolved' FOR UPDATE`,
  openAll: `SELECT * FROM incidents WHERE status <> 'resolved'`,
  list: `SELECT * FROM incidents
         WHERE ($1::text IS NULL OR $1 = ANY (customer_ids))
           AND ($2::text IS NULL OR status = $2)
         ORDER BY opened_at DESC, id LIMIT $3`,
  timeline: 'SELECT id, at, kind, message, detail FROM incident_timeline WHERE incident_id = $1 ORDER BY id',
  addTimeline: `INSERT INTO incident_timeline (incident_id, at, kind, message, detail)
                VALUES ($1, coalesce($2, now()), $3, $4, $5) RETURNING id`,
  openBySeverity: `SELECT severity, count(*)::int AS n FROM incidents WHERE status <> 'resolved' GROUP BY severity`,
  activeSilence: `SELECT id, reason, ends_at FROM incident_silences
                  WHERE starts_at <= $3 AND ends_at > $3
                    AND (rule IS NULL OR rule = $1) AND (scope IS NULL OR scope = $2)
                  ORDER BY ends_at DESC LIMIT 1`,
  annotate: `UPDATE incidents SET root_cause = coalesce($2, root_cause), prevention = coalesce($3, prevention)
             WHERE id = $1 RETURNING *`,
}

export async function getIncident(db: Queryable, id: string): Promise<Incident | undefined> {
  const { rows } = await db.query<IncidentRow>(SQL.get, [id])
  return rows[0] ? toIncident(rows[0]) : undefined
}

export async function listIncidents(
  db: Queryable,
  filter: { customerId?: string; status?: IncidentStatus; limit?: number },
): Promise<Incident[]> {
  const { rows } = await db.query<IncidentRow>(SQL.list, [
    filter.customerId ?? null,
    filter.status ?? null,
    filter.limit ?? 100,
  ])
  return rows.map(toIncident)
}

export async function getTimeline(db: Queryable, id: string): Promise<TimelineEntry[]> {
  const { rows } = await db.query<{
    id: number
    at: Date
    kind: string
    message: string
    detail: Record<string, unknown>
  }>(SQL.timeline, [id])
  return rows.map((r) => ({ ...r, at: r.at.toISOString() }))
}

export async function addTimeline(
  db: Queryable,
  incidentId: string,
  kind: 'transition' | 'evaluation' | 'notification' | 'update' | 'estimate' | 'silence' | 'note',
  message: string,
  detail: Record<string, unknown> = {},
  at?: Date,
): Promise<number> {
  const { rows } = await db.query<{ id: number }>(SQL.addTimeline, [
    incidentId,
    at ?? null,
    kind,
    message,
    JSON.stringify(detail),
  ])
  return rows[0]!.id
}

export async function activeSilence(
  db: Queryable,
  rule: string,
  scope: string,
  at: Date,
): Promise<{ id: number; reason: string } | undefined> {
  const { rows } = await db.query<{ id: number; reason: string }>(SQL.activeSilence, [rule, scope, at])
  return rows[0]
}
