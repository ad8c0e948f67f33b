// Silences and maintenance windows in PostgreSQL (table `incident_silences`). An incident matching
// an active silence is recorded and shown but not paged; see lifecycle.ts.
import type { Queryable } from '../db/postgres.ts'
import { NotFoundError } from '../errors.ts'
import type { NewSilence, Silence } from './schemas.ts'

const SQL = {
  create: `INSERT INTO incident_silences (rule, scope, starts_at, ends_at, reason)
           VALUES ($1, $2, coalesce($3, now()), $4, $5) RETURNING id, rule, scope, starts_at, ends_at, reason`,
  end: `UPDATE incident_silences SET ends_at = greatest(starts_at + interval '1 millisecond', now()) WHERE id = $1`,
  active: `SELECT id, reason FROM incident_silences
           WHERE starts_at <= $3 AND ends_at > $3
             AND (rule IS NULL OR rule = $1) AND (scope IS NULL OR scope = $2)
           ORDER BY ends_at DESC LIMIT 1`,
}

interface SilenceRow {
  id: number
  rule: string | null
  scope: string | null
  starts_at: Date
  ends_at: Date
  reason: string
}

export async function createSilence(db: Queryable, s: NewSilence): Promise<Silence> {
  const { rows } = await db.query<SilenceRow>(SQL.create, [
    s.rule ?? null,
    s.scope ?? null,
    s.startsAt ?? null,
    s.endsAt,
    s.reason,
  ])
  const r = rows[0]!
  return {
    id: r.id,
    rule: r.rule,
    scope: r.scope,
    startsAt: r.starts_at.toISOString(),
    endsAt: r.ends_at.toISOString(),
    reason: r.reason,
  }
}

/** Ends a silence now (NotFoundError when there is no such silence). */
export async function endSilence(db: Queryable, id: number): Promise<void> {
  const { rowCount } = await db.query(SQL.end, [id])
  if (!rowCount) throw new NotFoundError(`silence ${id}`)
}

/** The silence holding (rule, scope) at `at`, the one that lasts longest. */
export async function activeSilence(
  db: Queryable,
  rule: string,
  scope: string,
  at: Date,
): Promise<Pick<Silence, 'id' | 'reason'> | undefined> {
  const { rows } = await db.query<{ id: number; reason: string }>(SQL.active, [rule, scope, at])
  return rows[0]
}
