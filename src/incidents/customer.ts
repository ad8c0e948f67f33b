// Incidents as one affected customer may see them (the customer portal): the incidents of
// customer-facing rules that list it among their affected customers, with the customer-visible part
// of their timeline and the recovery estimate in force.
//
// Guarantees: an incident is returned only when `customerId` is among its affected customers; its
// timeline is limited to transitions, operators' updates and estimates, without their details
// (evaluations, pages, notices and silences are internal). Text is as operators and rules wrote it:
// the caller scrubs other customers' names out of what it shows.
import type { Queryable } from '../db/postgres.ts'
import type { RecoveryPolicy } from './estimates.ts'
import { incidentFacts } from './public.ts'
import { customerFacing } from './rules.ts'
import type { IncidentForCustomer } from './schemas.ts'
import { listAffectingIncidents } from './store.ts'
import { CUSTOMER_TIMELINE_KINDS, entriesOf } from './timeline.ts'

/** Open incidents affecting the customer, and those resolved since `since`, newest first. */
export async function listCustomerIncidents(
  db: Queryable,
  policy: RecoveryPolicy,
  customerId: string,
  opts: { since: Date; limit: number },
): Promise<IncidentForCustomer[]> {
  const incidents = await listAffectingIncidents(db, customerId, [...customerFacing], opts)
  const timelines = await entriesOf(
    db,
    incidents.map((i) => i.id),
    CUSTOMER_TIMELINE_KINDS,
  )
  return incidents.map((i) => ({
    ...incidentFacts(i, policy),
    summary: i.summary,
    timeline: timelines.get(i.id) ?? [],
  }))
}
