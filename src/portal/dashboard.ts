// One customer's dashboard, gathered from the lower modules' services (through PortalUses): the
// live state of what it uses, its month-to-date SLA figures with the error budgets and the credit
// so far, its spending against its budgets, the incidents affecting it, its recent runs and its
// credit history.
//
// Guarantees: every service is asked for this customer only (its id comes from the session, never
// from the request); text other people wrote (incident summaries, operators' updates, root cause,
// pool names) passes through a scrubber that replaces every *other* customer's id and name; the
// public status components shown are the public page's own (already scrubbed). A source that fails
// or takes too long (2 s; the month's figures 20 s) is shown as unavailable, and the rest of the
// page still renders.
import type { BudgetStatus } from '../budgets/index.ts'
import type { IncidentForCustomer } from '../incidents/index.ts'
import type { CustomerRun } from '../orchestrator/index.ts'
import {
  type BillingAdjustment,
  type CreditSoFar,
  type CustomerStatus,
  creditSoFar,
  type ErrorBudget,
  errorBudget,
} from '../sla/index.ts'
import {
  type ComponentState,
  customerScrubber,
  duration,
  publicTitle,
  type StatusComponent,
  settle,
  worst,
} from '../status/index.ts'
import type { PortalConfig } from './config.ts'
import type { PortalUses } from './uses.ts'

/** How long the month's figures may take before the page shows them as unavailable. */
const FIGURES_TIMEOUT_MS = 20_000

export interface LiveComponent extends StatusComponent {
  /** The customer's own work there (pools only), in words. */
  yours?: string
}

export interface SlaView {
  month: string
  period: CustomerStatus['period']
  computedAt: string
  uptime: { percent: number; target: number; met: boolean; downMinutes: number; eligibleMinutes: number }
  successRate: {
    percent: number | null
    target: number
    met: boolean
    succeeded: number
    failed: number
    finished: number
  }
  executionTime: {
    runType: string
    runs: number
    targetMs: number | null
    compliancePercent: number | null
    withinPercentTarget: number | null
    met: boolean | null
    p95Ms: number
  }[]
  dlqSize: number
  budget: ErrorBudget
  credit: CreditSoFar
}

export interface PortalIncident {
  id: string
  title: string
  status: IncidentForCustomer['status']
  severity: IncidentForCustomer['severity']
  detail: string
  openedAt: string
  acknowledgedAt: string | null
  resolvedAt: string | null
  estimatedRecoveryAt: string
  estimateSource: IncidentForCustomer['estimateSource']
  timeline: IncidentForCustomer['timeline']
  rootCause: string | null
  prevention: string | null
}

export interface CreditMonth {
  month: string
  creditId: number
  creditPercent: number
  creditCents: number
  feeCents: number
  currency: string
  closedAt: string
  adjustments: BillingAdjustment[]
}

type Part<T> = { ok: true; value: T } | { ok: false; unavailable: string }

export interface PortalView {
  generatedAt: string
  customer: { id: string; name: string }
  live: Part<{ state: ComponentState; components: LiveComponent[] }>
  sla: Part<SlaView>
  incidents: Part<PortalIncident[]>
  runs: Part<CustomerRun[]>
  credits: Part<CreditMonth[]>
  spending: Part<BudgetStatus>
}

function part<T, U>(
  r: { ok: true; value: T } | { ok: false; error: string },
  what: string,
  map: (v: T) => U,
): Part<U> {
  return r.ok
    ? { ok: true, value: map(r.value) }
    : { ok: false, unavailable: `${what} are temporarily unavailable` }
}

/** Titles of the incidents only customers see (their own scope); the rest read as the public page. */
function incidentTitle(i: IncidentForCustomer): string {
  if (i.rule === 'success_rate_burn') return 'Your runs are failing more often than your plan allows'
  if (i.rule === 'dlq_growth') return 'Jobs of yours are going to the dead-letter queue'
  return publicTitle(i.rule, i.scope).title
}

function yourWork(p: { ready: number; running: number; oldestReadyAgeSeconds: number }): string {
  if (!p.ready && !p.running) return 'None of your jobs are waiting or running'
  const parts = []
  if (p.ready) parts.push(`${p.ready} waiting (oldest ${duration(p.oldestReadyAgeSeconds)})`)
  if (p.running) parts.push(`${p.running} running`)
  return `Your jobs: ${parts.join(', ')}`
}

function slaView(s: CustomerStatus): SlaView {
  return {
    month: s.month,
    period: s.period,
    computedAt: s.computedAt,
    uptime: {
      percent: s.uptime.percent,
      target: s.uptime.target,
      met: s.uptime.met,
      downMinutes: s.uptime.downMinutes,
      eligibleMinutes: s.uptime.eligibleMinutes,
    },
    successRate: {
      percent: s.success.successRate,
      target: s.success.target,
      met: s.success.met,
      succeeded: s.success.succeeded,
      failed: s.success.failed,
      finished: s.success.finished,
    },
    executionTime: s.executionTime.map((e) => ({
      runType: e.runType,
      runs: e.runs,
      targetMs: e.targetMs,
      compliancePercent: e.compliancePercent,
      withinPercentTarget: e.withinPercentTarget,
      met: e.met,
      p95Ms: e.p95Ms,
    })),
    dlqSize: s.dlqSize,
    budget: errorBudget(s),
    credit: creditSoFar(s),
  }
}

/** The dashboard of `customerId` (from its session) as of now. */
export async function buildDashboard(
  uses: PortalUses,
  cfg: PortalConfig,
  customerId: string,
  now = new Date(),
): Promise<PortalView> {
  const since = new Date(now.getTime() - cfg.incidentDays * 86_400_000)
  const [customers, snapshot, pools, status, incidents, runs, credits, spending] = await Promise.all([
    settle(() => uses.tenants.customers()),
    settle(() => uses.status.snapshot()),
    settle(() => uses.orchestrator.customerPools(customerId)),
    // A month of telemetry to compute (cached per customer): it may take longer than a signal.
    settle(() => uses.sla.customerStatus(customerId), FIGURES_TIMEOUT_MS),
    settle(() => uses.incidents.customerIncidents(customerId, { since, limit: 50 })),
    settle(() => uses.orchestrator.customerRuns(customerId, cfg.recentRuns)),
    settle(() => uses.sla.creditHistory(customerId, cfg.creditMonths)),
    // The month's spend comes from ClickHouse, like the SLA figures.
    settle(() => uses.budgets.status(customerId, now), FIGURES_TIMEOUT_MS),
  ])
  const me = customers.ok ? customers.value.find((c) => c.id === customerId) : undefined
  // Without the customer list nothing others wrote can be shown safely.
  const others = customers.ok
    ? customerScrubber(customers.value.filter((c) => c.id !== customerId))
    : undefined
  const everyone = customers.ok ? customerScrubber(customers.value) : undefined

  let live: PortalView['live'] = { ok: false, unavailable: 'Live status is temporarily unavailable' }
  if (snapshot.ok && pools.ok && others && everyone) {
    const shared = snapshot.value.components.filter((c) =>
      ['api', 'orchestrator', 'telemetry'].includes(c.id),
    )
    const poolComponents = pools.value.map((p): LiveComponent => {
      // The public page names pools with every customer scrubbed out; so does its component id.
      const pub = snapshot.value.components.find((c) => c.id === `pool:${everyone(p.pool)}`)
      return {
        id: `pool:${others(p.pool)}`,
        name: `Worker pool ${others(p.pool)}`,
        parent: 'orchestrator',
        state: pub?.state ?? 'operational',
        detail: pub?.detail ?? 'Not on the public status page yet',
        yours: yourWork(p),
      }
    })
    const components = [...shared, ...poolComponents]
    live = {
      ok: true,
      value: {
        state: components.reduce<ComponentState>((s, c) => worst(s, c.state), 'operational'),
        components,
      },
    }
  }

  return {
    generatedAt: now.toISOString(),
    customer: { id: customerId, name: me?.name ?? customerId },
    live,
    sla: part(status, 'SLA figures', slaView),
    incidents:
      incidents.ok && others
        ? {
            ok: true,
            value: incidents.value.map((i) => ({
              id: i.id,
              title: others(incidentTitle(i)),
              status: i.status,
              severity: i.severity,
              detail: others(i.summary),
              openedAt: i.openedAt,
              acknowledgedAt: i.acknowledgedAt,
              resolvedAt: i.resolvedAt,
              estimatedRecoveryAt: i.estimatedRecoveryAt,
              estimateSource: i.estimateSource,
              timeline: i.timeline.map((t) => ({ ...t, message: others(t.message) })),
              rootCause: i.rootCause === null ? null : others(i.rootCause),
              prevention: i.prevention === null ? null : others(i.prevention),
            })),
          }
        : { ok: false, unavailable: 'Incidents are temporarily unavailable' },
    runs: part(runs, 'Runs', (items) => items),
    spending: part(spending, 'Budget figures', (b) => b),
    credits: part(credits, 'Credits', (items) =>
      items.map((r) => ({
        month: r.month,
        creditId: r.id,
        creditPercent: r.creditPercent,
        creditCents: r.creditCents,
        feeCents: r.feeCents,
        currency: r.currency,
        closedAt: r.createdAt,
        adjustments: r.adjustments,
      })),
    ),
  }
}
