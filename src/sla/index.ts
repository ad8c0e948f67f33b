// The sla module: scheduled figure jobs, SLA plans, monthly credits and reports (docs/sla.md).
// Other modules import only from this file.

import type { Registry } from 'prom-client'
import { Gauge } from 'prom-client'
import { createRouter } from '../http/openapi.ts'
import { defineModule, type StewardModule } from '../module.ts'
import type { OrchestratorModule } from '../orchestrator/index.ts'
import type { PricingModule } from '../pricing/index.ts'
import type { TenantsModule } from '../tenants/index.ts'
import { type AlertTargets, alertTargets, factoryMinutes, type MinuteVerdict } from './alerting.ts'
import { closeDueMonths, closedUntil, lastClosedMonth } from './close.ts'
import { type SlaConfig, slaConfigSchema } from './config.ts'
import type { SlaContext } from './context.ts'
import { syncCostCopy } from './cost-copy.ts'
import { type CreditSummary, customerCreditHistory, writeSlaMonthly } from './credits.ts'
import { customerIds } from './customers.ts'
import { type FactoryUptimeDays, factoryUptimeDays } from './daily.ts'
import { computeMonth } from './figures.ts'
import { listHolds } from './holds.ts'
import { checkLateData, type LateDataFinding, openLateData } from './late-data.ts'
import { syncConfigMaintenance } from './maintenance.ts'
import { monthOf, parseMonth } from './months.ts'
import { buildCreditReport } from './report.ts'
import { adjustmentRoutes } from './routes/adjustments.ts'
import { auditRoutes } from './routes/audit.ts'
import { closeRoutes } from './routes/close.ts'
import { costRoutes } from './routes/costs.ts'
import { creditRoutes } from './routes/credits.ts'
import { maintenanceRoutes } from './routes/maintenance.ts'
import { monthRoutes } from './routes/months.ts'
import { planRoutes } from './routes/plans.ts'
import { statusRoutes } from './routes/status.ts'
import { currentRpo, recordRpoSamples } from './rpo.ts'
import { recordQueueSample } from './rto.ts'
import type { BillingAdjustment, CreditReport } from './schemas/credits.ts'
import { type MonthSpend, spendSoFar } from './spend.ts'
import { type CustomerStatus, slaStatus } from './status.ts'
import { lastBeatOf, startWitness } from './witness.ts'

export type { AlertTargets, MinuteVerdict } from './alerting.ts'
export { type ErrorBudget, errorBudget } from './budget.ts'
export { closeDueMonths, closeMonth } from './close.ts'
export type { SlaContext } from './context.ts'
export type { FactoryUptimeDays } from './daily.ts'
export { computeMonth } from './figures.ts'
export type { LateDataFinding } from './late-data.ts'
export { formatCents } from './money.ts'
export { allowedDowntimeMinutes, formatMinutes, isMonthKey, monthOf, parseMonth } from './months.ts'
export { renderCsv, renderHtml } from './report.ts'
export type { BillingAdjustment, CreditReport } from './schemas/credits.ts'
export type { MonthFigures } from './schemas/figures.ts'
export { SlaNotice } from './schemas/notices.ts'
export type { MonthSpend } from './spend.ts'
export { type CreditSoFar, type CustomerStatus, creditSoFar } from './status.ts'

export const SLA_JOBS = {
  refresh: 'sla.refresh',
  monthlyClose: 'sla.monthly-close',
  lateDataCheck: 'sla.late-data-check',
} as const

/** Month-to-date figures for Grafana and /metrics, an RPO sample, and the profitability copy (cost-copy.ts). */
async function refresh(ctx: SlaContext, gauges: ReturnType<typeof createGauges>, now: Date) {
  const samples = await currentRpo(ctx.pool)
  await recordRpoSamples(ctx.pool, new Date(Math.floor(now.getTime() / 60_000) * 60_000), samples)
  for (const s of samples) if (s.lagSeconds !== null) gauges.rpo.set({ source: s.source }, s.lagSeconds)
  const figures = await computeMonth(ctx, monthOf(now), await customerIds(ctx.tenants), { now })
  gauges.uptime.set({ customer: '' }, figures.overall.uptime.percent)
  for (const m of figures.customers) {
    gauges.uptime.set({ customer: m.customerId }, m.uptime.percent)
    if (m.success.successRate !== null) gauges.success.set({ customer: m.customerId }, m.success.successRate)
  }
  await writeSlaMonthly(ctx.ch, figures.customers)
  const costs = await syncCostCopy(ctx, figures, now)
  return {
    month: figures.month,
    customers: figures.customers.length,
    uptime: figures.overall.uptime.percent,
    costs,
  }
}

function createGauges(registry: Registry) {
  return {
    uptime: new Gauge({
      name: 'steward_sla_uptime_percent',
      help: 'Month-to-date uptime % (customer "" = the factory)',
      labelNames: ['customer'],
      registers: [registry],
    }),
    success: new Gauge({
      name: 'steward_sla_success_rate_percent',
      help: 'Month-to-date run success rate %',
      labelNames: ['customer'],
      registers: [registry],
    }),
    rpo: new Gauge({
      name: 'steward_sla_rpo_seconds',
      help: 'Current recovery point lag per source (postgres replicas, telemetry pipeline)',
      labelNames: ['source'],
      registers: [registry],
    }),
  }
}

/** /v1/sla, one route file per resource (`dlqSize` is the orchestrator's). */
function slaRoutes(ctx: SlaContext, dlqSize: (customerId?: string) => Promise<number>) {
  const app = createRouter()
  for (const routes of [
    statusRoutes(ctx, dlqSize),
    creditRoutes(ctx),
    adjustmentRoutes(ctx),
    closeRoutes(ctx),
    planRoutes(ctx),
    maintenanceRoutes(ctx),
    monthRoutes(ctx),
    auditRoutes(ctx),
    costRoutes(ctx),
  ])
    app.route('/', routes)
  return app
}

export interface SlaUses {
  tenants: Pick<TenantsModule, 'customers'>
  pricing: Pick<PricingModule, 'prices'>
  orchestrator: Pick<OrchestratorModule, 'dlqSize' | 'queueStats'>
}

export type RecoveryKind = keyof SlaConfig['rtoTargetsSeconds']

export interface SlaModule extends StewardModule {
  /** The RTO target (seconds) of a recovery kind: `sla.rtoTargetsSeconds` ("RTO and RPO"). */
  rtoTargetSeconds(kind: RecoveryKind): number
  /** The uptime target of the default plan (%), what the factory as a whole is held to. */
  uptimeTarget: number
  /** The factory's uptime on each of the last `days` UTC days, today included (needs ClickHouse). */
  factoryUptime(days: number, now?: Date): Promise<FactoryUptimeDays>
  /** Months the close holds until an admin releases them (YYYY-MM, oldest first). */
  heldMonths(): Promise<string[]>
  /** Closed months that late data would change, not yet dealt with (an operator's task). */
  lateData(): Promise<LateDataFinding[]>
  /**
   * One customer's status in a month (YYYY-MM; default this month, to date): exactly the item
   * GET /v1/sla/status answers for it (NotFoundError for an unknown customer).
   */
  customerStatus(customerId: string, month?: string): Promise<CustomerStatus>
  /** The customer's last `limit` closed months, newest first, each with its billing adjustments. */
  creditHistory(
    customerId: string,
    limit: number,
  ): Promise<(CreditSummary & { adjustments: BillingAdjustment[] })[]>
  /** The credit report of one customer's month (YYYY-MM): its record, or provisional figures. */
  creditReport(customerId: string, month: string): Promise<CreditReport>
  /** Every month before this instant is closed (its credits issued); null while none is. */
  closedUntil(): Promise<Date | null>
  /** The burn-rate alerts' SLOs: each customer's plan targets this month (alerting.ts). */
  alertTargets(now: Date): Promise<AlertTargets>
  /** The factory's minutes over [from, to) as the monthly figures judge them (alerting.ts). */
  factoryMinutes(from: Date, to: Date): Promise<MinuteVerdict[]>
  /** Each customer's variable cost so far in the month of `now`, with its plan's currency (spend.ts). */
  spendSoFar(customerIds: string[], now: Date): Promise<Map<string, MonthSpend>>
}

export const createSla = defineModule('sla', slaConfigSchema, (deps, uses: SlaUses): SlaModule => {
  const cfg = deps.config
  const ch = deps.clickhouse
  const targets = {
    rtoTargetSeconds: (kind: RecoveryKind) => cfg.rtoTargetsSeconds[kind],
    uptimeTarget: cfg.defaultPlan.uptimeTarget,
    closedUntil: () => closedUntil(deps.pool),
    heldMonths: async () => (await listHolds(deps.pool, true)).map((h) => h.month),
  }
  // A `steward worker` process has no ClickHouse: the SLA engine lives in `serve` only.
  if (!ch) {
    const needsClickHouse = () => Promise.reject(new Error('SLA figures need ClickHouse (serve)'))
    return {
      name: 'sla',
      ...targets,
      lateData: () => openLateData(deps.pool),
      factoryUptime: needsClickHouse,
      customerStatus: needsClickHouse,
      creditHistory: needsClickHouse,
      creditReport: needsClickHouse,
      alertTargets: () => Promise.reject(new Error('SLA alert targets need ClickHouse (serve)')),
      factoryMinutes: () => Promise.reject(new Error('factory minutes need ClickHouse (serve)')),
      spendSoFar: () => Promise.reject(new Error('spending needs ClickHouse (serve)')),
    }
  }
  const ctx: SlaContext = {
    pool: deps.pool,
    ch,
    config: cfg,
    prices: uses.pricing.prices,
    tenants: uses.tenants,
    log: deps.log,
  }
  const gauges = createGauges(deps.metrics)
  deps.scheduler.register({
    name: SLA_JOBS.refresh,
    cron: cfg.schedules.refresh,
    // Month-to-date figures only matter now: a missed refresh is not worth catching up.
    catchUp: false,
    run: ({ scheduledFor }) => refresh(ctx, gauges, scheduledFor),
  })
  deps.scheduler.register({
    name: SLA_JOBS.monthlyClose,
    cron: cfg.schedules.monthlyClose,
    run: async () => {
      const r = await closeDueMonths(ctx, new Date())
      return { ...r }
    },
  })
  deps.scheduler.register({
    name: SLA_JOBS.lateDataCheck,
    cron: cfg.schedules.lateDataCheck,
    // Late data is judged as of the tick: what had arrived by then.
    run: async ({ scheduledFor }) => ({ ...(await checkLateData(ctx, scheduledFor)) }),
  })
  let witness: { stop(): Promise<void> } | undefined
  return {
    name: 'sla',
    ...targets,
    factoryUptime: (days, now = new Date()) => factoryUptimeDays(ctx, days, now),
    lateData: () => openLateData(deps.pool),
    async customerStatus(customerId, month) {
      const m = month ? parseMonth(month) : monthOf(new Date())
      const status = await slaStatus(ctx, uses.orchestrator.dlqSize, m, customerId)
      return status.customers[0]!
    },
    creditHistory: (customerId, limit) => customerCreditHistory(deps.pool, customerId, limit),
    creditReport: (customerId, month) => buildCreditReport(ctx, parseMonth(month), customerId),
    alertTargets: (now) => alertTargets(ctx, now),
    factoryMinutes: (from, to) => factoryMinutes(ctx, from, to),
    spendSoFar: (ids, now) => spendSoFar(ctx, ids, now),
    routes: slaRoutes(ctx, uses.orchestrator.dlqSize),
    // The witness: this instance's liveness in PostgreSQL, independent of ClickHouse (witness.ts).
    async start() {
      await syncConfigMaintenance(ctx)
      witness = startWitness({
        pool: deps.pool,
        instanceId: deps.instanceId,
        intervalMs: cfg.witnessIntervalMs,
        log: deps.log,
        // The queue with each beat: full recovery ends once the backlog is drained (rto.ts).
        onBeat: async (at) => {
          const stats = await uses.orchestrator.queueStats()
          await recordQueueSample(deps.pool, at, {
            readyJobs: stats.reduce((a, x) => a + x.depth, 0),
            oldestReadySeconds: Math.max(0, ...stats.map((x) => x.oldestReadyAgeSeconds)),
          })
        },
      })
    },
    async stop() {
      await witness?.stop()
      witness = undefined
    },
    readiness: async () => ({
      lastClosedMonth: await lastClosedMonth(deps.pool),
      heldMonths: await targets.heldMonths(),
      witnessLastBeat: (await lastBeatOf(deps.pool, deps.instanceId))?.toISOString() ?? null,
    }),
  }
})
