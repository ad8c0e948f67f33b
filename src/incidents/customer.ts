// Incidents as one affected customer may see them (the customer portal, and GET /v1/incidents/:id
// for a customer token): the incidents of customer-facing rules that list it among their affected
// customers, with the customer-visible part of their timeline and the recovery estimate in force.
//
// Guarantees: an incident is returned only when `customerId` is among its affected customers; its
// timeline is limited to transitions, operators' updates and estimates, without their details
// (evaluations, pages, notices and silences are internal). Text is as operators and rules wrote it:
// the caller scrubs other customers' names out of what it shows.
import type { Queryable } from '../db/postgres.ts'
import type { RecoveryPolicy } from './estimates.ts'
import { type IncidentFacts, incidentFacts } from './public.ts'
import { customerFacing } from './rules.ts'
import type { IncidentRow, TimelineEntry } from './store.ts'

/** The kinds of timeline entry an affected customer sees. */
export const CUSTOMER_TIMELINE_KINDS = ['transition', 'update', 'estimate']

/** The part of a timeline an affected customer sees: its kinds, without internal detail. */
export function customerTimeline(entries: TimelineEntry[]): TimelineEntry[] {
  return entries.filter((t) => CUSTOMER_TIMELINE_KINDS.includes(t.kind)).map((t) => ({ ...t, detail: {} }))
}

const SQL = {
  incidents: `
    SELECT * FROM incidents
    WHERE $1 = ANY (customer_ids) AND rule = ANY ($2::text[]) AND (status <> 'resolved' OR resolved_at >= $3)
    ORDER BY opened_at DESC, id LIMIT $4`,
  timelines: `
    SELECT incident_id, id, at, kind, message FROM incident_timeline
    WHERE incident_id = ANY ($1::text[]) AND kind = ANY ($2::text[]) ORDER BY id`,
}

export interface CustomerIncident extends IncidentFacts {
  /** The rule's summary: it names the customer's own figures (the caller scrubs any other). */
  summary: string
  /** Transitions, operators' updates and estimates, oldest first. */
  timeline: { at: string; kind: string; message: string }[]
}

/** Open incidents affecting the customer, and those resolved since `since`, newest first. */
export async function listCustomerIncidents(
  db: Queryable,
  policy: RecoveryPolicy,
  customerId: string,
  opts: { since: Date; limit: number },
): Promise<CustomerIncident[]> {
  const { rows } = await db.query<IncidentRow>(SQL.incidents, [
    customerId,
    [...customerFacing],
    opts.since,
    opts.limit,
  ])
  const timelines = new Map<string, CustomerIncident['timeline']>()
  if (rows.length) {
    const entries = await db.query<{ incident_id: string; at: Date; kind: string; message: string }>(
      SQL.timelines,
      [rows.map((r) => r.id), CUSTOMER_TIMELINE_KINDS],
    )
    for (const e of entries.rows)
      timelines.set(e.incident_id, [
        ...(timelines.get(e.incident_id) ?? []),
        { at: e.at.toISOString(), kind: e.kind, message: e.message },
      ])
  }
  return rows.map((r) => ({
    ...incidentFacts(r, policy),
    summary: r.summary,
    timeline: timelines.get(r.id) ?? [],
  }))
}
