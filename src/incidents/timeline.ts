// Incident timelines in PostgreSQL (table `incident_timeline`): every transition, evaluation, page,
// notice, operator update and estimate of an incident, in order.
import type { Queryable } from '../db/postgres.ts'
import type { TimelineEntry, TimelineKind } from './schemas.ts'

const SQL = {
  timeline: 'SELECT id, at, kind, message, detail FROM incident_timeline WHERE incident_id = $1 ORDER BY id',
  add: `INSERT INTO incident_timeline (incident_id, at, kind, message, detail)
        VALUES ($1, coalesce($2, now()), $3, $4, $5) RETURNING id`,
  updates: `SELECT incident_id, at, message FROM incident_timeline
            WHERE incident_id = ANY ($1::text[]) AND kind = 'update' ORDER BY id`,
}

export async function getTimeline(db: Queryable, id: string): Promise<TimelineEntry[]> {
  const { rows } = await db.query<Omit<TimelineEntry, 'at'> & { at: Date }>(SQL.timeline, [id])
  return rows.map((r) => ({ ...r, at: r.at.toISOString() }))
}

/** Adds an entry (at `at`, default now); returns its id. */
export async function addTimeline(
  db: Queryable,
  incidentId: string,
  kind: TimelineKind,
  message: string,
  detail: Record<string, unknown> = {},
  at?: Date,
): Promise<number> {
  const { rows } = await db.query<{ id: number }>(SQL.add, [
    incidentId,
    at ?? null,
    kind,
    message,
    JSON.stringify(detail),
  ])
  return rows[0]!.id
}

/** The operators' updates of each incident, oldest first. */
export async function updatesOf(
  db: Queryable,
  ids: string[],
): Promise<Map<string, { at: string; message: string }[]>> {
  const out = new Map<string, { at: string; message: string }[]>()
  if (!ids.length) return out
  const { rows } = await db.query<{ incident_id: string; at: Date; message: string }>(SQL.updates, [ids])
  for (const r of rows) {
    const list = out.get(r.incident_id) ?? []
    list.push({ at: r.at.toISOString(), message: r.message })
    out.set(r.incident_id, list)
  }
  return out
}
