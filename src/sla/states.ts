// The state of every minute of a span (a month, the status page's days, the window an alert
// judges) for the factory and for each customer, fed from both stores: service periods and the
// witness (PostgreSQL), health signals by provenance and region (ClickHouse), maintenance windows.
// One function, so the monthly figures, the status page and the burn-rate alerts agree.
import type { SlaContext } from './context.ts'
import { appliesTo, maintenanceWindows } from './maintenance.ts'
import type { Span } from './months.ts'
import type { FigureSource } from './schemas/figures.ts'
import type { MaintenanceWindow, Plan } from './schemas/plan.ts'
import { inServiceMask, loadService, type Service } from './service.ts'
import { loadMinuteSignals, type MinuteSignals } from './signals.ts'
import { classifyMinutes, customerSignal, maintenanceMask } from './uptime.ts'
import { witnessedMinutes, witnessSpans } from './witness.ts'

export interface SpanStates {
  service: Service
  witnessed: Uint8Array
  /** The factory's in-service minutes. */
  inService: Uint8Array
  signals: MinuteSignals
  /** Every window overlapping the span, whatever its status. */
  windows: MaintenanceWindow[]
  /** STATE per minute (uptime.ts). */
  factory: Uint8Array
  /** STATE per minute per customer; customers in the same situation share one array: read-only. */
  customers: Map<string, Uint8Array>
}

const bounds = (ws: MaintenanceWindow[]) =>
  ws.map((w) => ({ start: new Date(w.start), end: new Date(w.end) }))

/**
 * Minute states of the factory and of each customer over the span; minutes from `elapsed` on are
 * not judged. `customers`: each one's `since` and the plan in force (whether its own probes count).
 */
export async function loadStates(
  ctx: SlaContext,
  span: Span,
  customers: Map<string, { since?: Date; plan: Pick<Plan, 'customerProbes'> }>,
  opts: { source?: FigureSource; elapsed?: number } = {},
): Promise<SpanStates> {
  const elapsed = opts.elapsed ?? span.minutes
  const [service, spans, windows, signals] = await Promise.all([
    loadService(ctx),
    witnessSpans(ctx.pool, span.start, span.end),
    maintenanceWindows(ctx.pool, span),
    loadMinuteSignals(ctx.ch, span, [...customers.keys()], {
      source: opts.source,
      quorum: ctx.config.probeQuorum,
    }),
  ])
  const witnessed = witnessedMinutes(span, spans)
  const inService = inServiceMask(span, service)
  const factory = classifyMinutes(
    {
      signal: signals.factory,
      inService,
      maintenance: maintenanceMask(span, bounds(windows.filter((w) => appliesTo(w, null)))),
      witnessed,
    },
    elapsed,
  )
  // Customers without probes of their own, in service all span long (or from the same minute) and
  // under the same windows have the same minutes: computed once, shared (read-only).
  const shared = new Map<string, Uint8Array>()
  const states = new Map<string, Uint8Array>()
  for (const [id, c] of customers) {
    const probes = signals.customers.get(id)
    const mine = windows.filter((w) => appliesTo(w, id))
    const since = c.since && c.since > span.start ? c.since.getTime() : 0
    const key = probes ? undefined : `${since} ${mine.map((w) => w.id).join(',')}`
    let minutes = key === undefined ? undefined : shared.get(key)
    minutes ??= classifyMinutes(
      {
        signal: customerSignal(
          signals.factory,
          c.plan.customerProbes === 'counted' ? probes?.pooled : probes?.trusted,
        ),
        inService: inServiceMask(span, service, c.since),
        maintenance: maintenanceMask(span, bounds(mine)),
        witnessed,
      },
      elapsed,
    )
    if (key !== undefined) shared.set(key, minutes)
    states.set(id, minutes)
  }
  return { service, witnessed, inService, signals, windows, factory, customers: states }
}
