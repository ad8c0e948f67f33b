// Who sees what of an incident. The admin sees and acts on every incident; a customer token sees
// only incidents that affect its customer (others are 404), in a view without the rule's figures,
// the paging state and the internal timeline (evaluations, pages), naming its own customer only.
import type { ClickHouseClient } from '../../db/clickhouse.ts'
import type { Pool } from '../../db/postgres.ts'
import { NotFoundError } from '../../errors.ts'
import type { Principal } from '../../http/auth.ts'
import type { IncidentsConfig } from '../config.ts'
import type { LifecycleContext } from '../lifecycle.ts'
import type {
  CustomerIncident,
  CustomerIncidentWithTimeline,
  Incident,
  IncidentWithTimeline,
  TimelineEntry,
} from '../schemas.ts'
import { getIncident } from '../store.ts'

/** What the incidents routes work with. */
export interface RouteDeps {
  pool: Pool
  clickhouse?: ClickHouseClient
  config: IncidentsConfig
  ctx: LifecycleContext
  /** Called after a change that queued deliveries. */
  kick(): void
}

/** An incident the principal may see (NotFoundError otherwise). */
export async function visibleIncident(pool: Pool, p: Principal, id: string): Promise<Incident> {
  const i = await getIncident(pool, id)
  if (!i || (p.kind === 'customer' && !i.customerIds.includes(p.customerId)))
    throw new NotFoundError(`incident ${id}`)
  return i
}

function customerView(i: Incident, customerId: string): CustomerIncident {
  const { details: _d, paged: _p, silenced: _s, clearedSince: _c, lastFiringAt: _l, ...shown } = i
  return { ...shown, customerIds: [customerId] }
}

/** Transitions, operators' updates and estimates, without their detail. */
const customerTimeline = (timeline: TimelineEntry[]): TimelineEntry[] =>
  timeline
    .filter((t) => t.kind === 'transition' || t.kind === 'update' || t.kind === 'estimate')
    .map((t) => ({ ...t, detail: {} }))

/** The incident as the principal sees it. */
export function incidentFor(p: Principal, i: Incident): Incident | CustomerIncident {
  return p.kind === 'admin' ? i : customerView(i, p.customerId)
}

/** The incident with its timeline, as the principal sees them. */
export function withTimelineFor(
  p: Principal,
  i: Incident,
  timeline: TimelineEntry[],
): IncidentWithTimeline | CustomerIncidentWithTimeline {
  return p.kind === 'admin'
    ? { ...i, timeline }
    : { ...customerView(i, p.customerId), timeline: customerTimeline(timeline) }
}
