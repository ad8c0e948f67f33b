// Incident records in PostgreSQL (table `incidents`): named statements, and the one mapping of a
// row to an `Incident` (src/incidents/schemas.ts). Every function returns mapped incidents; the
// row type stays in this file. The timeline is in timeline.ts, the evaluation state in
// rule-state.ts.
import type { PoolClient, Queryable } from '../db/postgres.ts'
import type {
  EstimateSource,
  Incident,
  IncidentStatus,
  PostIncidentFields,
  RecoveryKind,
  Severity,
} from './schemas.ts'

const SQL = {
  get: 'SELECT * FROM incidents WHERE id = $1',
  lock: 'SELECT * FROM incidents WHERE id = $1 FOR UPDATE',
  lockOpen: `SELECT * FROM incidents WHERE rule = $1 AND scope = $2 AND status <> 'resolved' FOR UPDATE`,
  list: `SELECT * FROM incidents
         WHERE ($1::text IS NULL OR $1 = ANY (customer_ids))
           AND ($2::text IS NULL OR status = $2)
         ORDER BY opened_at DESC, id LIMIT $3`,
  openOutside: `SELECT id FROM incidents WHERE rule = $1 AND status <> 'resolved' AND NOT (scope = ANY ($2::text[]))`,
  resolvedWithin: `SELECT id FROM incidents WHERE rule = $1 AND scope = $2 AND status = 'resolved'
                     AND resolved_at > $3::timestamptz - $4::float8 * interval '1 minute' LIMIT 1`,
  public: `SELECT * FROM incidents
           WHERE (status <> 'resolved' OR resolved_at >= $1) AND rule = ANY ($2::text[]) AND scope NOT LIKE 'customer:%'
           ORDER BY opened_at DESC, id LIMIT $3`,
  openBySeverity: `SELECT severity, count(*)::int AS n FROM incidents WHERE status <> 'resolved' GROUP BY severity`,
  insert: `INSERT INTO incidents (id, rule, scope, severity, status, summary, customer_ids, details,
                                  condition_since, opened_at, last_firing_at)
           VALUES ($1, $2, $3, $4, 'triggered', $5, $6, $7, $8, $9, $9)
           ON CONFLICT (rule, scope) WHERE status <> 'resolved' DO NOTHING RETURNING *`,
  markPaged: 'UPDATE incidents SET paged = true WHERE id = $1',
  markSilenced: 'UPDATE incidents SET silenced = true WHERE id = $1',
  firing: `UPDATE incidents SET last_firing_at = $2, cleared_since = NULL, details = $3,
                  severity = CASE WHEN $4 THEN $5 ELSE severity END
           WHERE id = $1`,
  cleared: 'UPDATE incidents SET cleared_since = $2 WHERE id = $1',
  acknowledge: `UPDATE incidents SET status = 'acknowledged', acknowledged_at = $2
                WHERE id = $1 AND status = 'triggered' RETURNING *`,
  resolve: `UPDATE incidents SET status = 'resolved', resolved_at = $2, resolved_by = $3
            WHERE id = $1 AND status <> 'resolved' RETURNING *`,
  estimate:
    'UPDATE incidents SET recovery_kind = $2, estimated_recovery_at = $3, estimate_source = $4 WHERE id = $1',
  annotate: `UPDATE incidents SET root_cause = coalesce($2, root_cause), prevention = coalesce($3, prevention)
             WHERE id = $1 RETURNING *`,
}

interface IncidentRow {
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
  estimate_source: EstimateSource | null
}

const iso = (d: Date | null) => (d ? d.toISOString() : null)

function toIncident(r: IncidentRow): Incident {
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

async function one(db: Queryable, sql: string, params: unknown[]): Promise<Incident | undefined> {
  const { rows } = await db.query<IncidentRow>(sql, params)
  return rows[0] ? toIncident(rows[0]) : undefined
}

export const getIncident = (db: Queryable, id: string) => one(db, SQL.get, [id])

/** The incident, locked for the caller's transaction. */
export const lockIncident = (db: PoolClient, id: string) => one(db, SQL.lock, [id])

/** The open incident of (rule, scope), locked for the caller's transaction. */
export const lockOpenIncident = (db: PoolClient, rule: string, scope: string) =>
  one(db, SQL.lockOpen, [rule, scope])

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

/** Open incidents of `rule` whose scope is not among `scopes`. */
export async function openOutside(db: Queryable, rule: string, scopes: string[]): Promise<string[]> {
  const { rows } = await db.query<{ id: string }>(SQL.openOutside, [rule, scopes])
  return rows.map((r) => r.id)
}

/** Whether an incident of (rule, scope) resolved within `minutes` before `at`. */
export async function resolvedWithin(
  db: Queryable,
  rule: string,
  scope: string,
  at: Date,
  minutes: number,
): Promise<boolean> {
  const { rows } = await db.query(SQL.resolvedWithin, [rule, scope, at, minutes])
  return rows.length > 0
}

/** Open incidents of `rules` outside customer scopes, and those resolved since `since`, newest first. */
export async function listPlatformIncidents(
  db: Queryable,
  rules: string[],
  opts: { since: Date; limit: number },
): Promise<Incident[]> {
  const { rows } = await db.query<IncidentRow>(SQL.public, [opts.since, rules, opts.limit])
  return rows.map(toIncident)
}

export async function openBySeverity(db: Queryable): Promise<{ severity: Severity; n: number }[]> {
  return (await db.query<{ severity: Severity; n: number }>(SQL.openBySeverity)).rows
}

/** Inserts a triggered incident; undefined when (rule, scope) already has an open one. */
export function insertIncident(
  db: Queryable,
  i: Pick<Incident, 'id' | 'rule' | 'scope' | 'severity' | 'summary' | 'customerIds' | 'details'> & {
    conditionSince: Date
    openedAt: Date
  },
): Promise<Incident | undefined> {
  return one(db, SQL.insert, [
    i.id,
    i.rule,
    i.scope,
    i.severity,
    i.summary,
    i.customerIds,
    JSON.stringify(i.details),
    i.conditionSince,
    i.openedAt,
  ])
}

export async function markPaged(db: Queryable, id: string): Promise<void> {
  await db.query(SQL.markPaged, [id])
}

export async function markSilenced(db: Queryable, id: string): Promise<void> {
  await db.query(SQL.markSilenced, [id])
}

/** A firing evaluation: clears `clearedSince`, keeps the figures, raises the severity to `escalateTo`. */
export async function recordFiring(
  db: Queryable,
  id: string,
  at: Date,
  details: Record<string, unknown>,
  escalateTo: Severity | undefined,
): Promise<void> {
  await db.query(SQL.firing, [id, at, JSON.stringify(details), escalateTo !== undefined, escalateTo ?? null])
}

export async function markCleared(db: Queryable, id: string, at: Date): Promise<void> {
  await db.query(SQL.cleared, [id, at])
}

/** Triggered → acknowledged; undefined when it was not triggered. */
export const setAcknowledged = (db: Queryable, id: string, at: Date) => one(db, SQL.acknowledge, [id, at])

/** Open → resolved; undefined when it was resolved already. */
export const setResolved = (db: Queryable, id: string, at: Date, by: string) =>
  one(db, SQL.resolve, [id, at, by])

export async function setEstimate(
  db: Queryable,
  id: string,
  kind: RecoveryKind,
  estimate: Date,
  source: EstimateSource,
): Promise<void> {
  await db.query(SQL.estimate, [id, kind, estimate, source])
}

/** Sets the post-incident fields given (the others keep their value). */
export async function annotateIncident(
  db: Queryable,
  id: string,
  fields: PostIncidentFields,
): Promise<Incident | undefined> {
  return one(db, SQL.annotate, [id, fields.rootCause ?? null, fields.prevention ?? null])
}
