// The sla module: scheduled figure jobs, SLA plans, monthly credits and reports (docs/sla.md).
// Other modules import only from this file.
import { Gauge } from 'prom-client'
import { syncPrices } from '../dashboards/index.ts'
import type { AppDeps, StewardModule } from '../module.ts'
import { closeDueMonths } from './close.ts'
import type { SlaConfig } from './config.ts'
import { loadRunCost } from './cost.ts'
import { writeSlaMonthly } from './credits.ts'
import { factoryUptimeDays } from './daily.ts'
import { computeMonth, type SlaContext } from './figures.ts'
import { monthOf } from './months.ts'
import { currentRpo, recordRpoSamples } from './recovery.ts'
import { slaRoutes } from './routes.ts'

export { closeDueMonths, closeMonth } from './close.ts'
export type { SlaConfig } from './config.ts'
export { type CostFigures, priceUsage } from './cost.ts'
export type { CreditRecord } from './credits.ts'
export type { FactoryDay, FactoryUptimeDays } from './daily.ts'
export { type CustomerMonth, computeMonth, type MonthFigures, type SlaContext } from './figures.ts'
export { allowedDowntimeMinutes, formatMinutes, parseMonth } from './months.ts'

export const SLA_JOBS = { refresh: 'sla.refresh', monthlyClose: 'sla.monthly-close' } as const

/** Month-to-date figures for Grafana and /metrics, and an RPO sample. */
async function refresh(ctx: SlaContext, gauges: ReturnType<typeof createGauges>, now: Date) {
  const samples = await currentRpo(ctx.pool)
  await recordRpoSamples(ctx.pool, new Date(Math.floor(now.getTime() / 60_000) * 60_000), samples)
  for (const s of samples) gauges.rpo.set({ source: s.source }, s.lagSeconds)
  const { rows } = await ctx.pool.query<{ id: string }>('SELECT id FROM customers ORDER BY id')
  const figures = await computeMonth(
    ctx,
    monthOf(now),
    rows.map((r) => r.id),
    { now },
  )
  gauges.uptime.set({ customer: '' }, figures.overall.uptime.percent)
  for (const m of figures.customers) {
    gauges.uptime.set({ customer: m.customerId }, m.uptime.percent)
    if (m.success.successRate !== null) gauges.success.set({ customer: m.customerId }, m.success.successRate)
  }
  await writeSlaMonthly(ctx.ch, figures.customers)
  return { month: figures.month, customers: figures.customers.length, uptime: figures.overall.uptime.percent }
}

function createGauges(deps: AppDeps) {
  return {
    uptime: new Gauge({
      name: 'steward_sla_uptime_percent',
      help: 'Month-to-date uptime % (customer "" = the factory)',
      labelNames: ['customer'],
      registers: [deps.metrics],
    }),
    success: new Gauge({
      name: 'steward_sla_success_rate_percent',
      help: 'Month-to-date run success rate %',
      labelNames: ['customer'],
      registers: [deps.metrics],
    }),
    rpo: new Gauge({
      name: 'steward_sla_rpo_seconds',
      help: 'Current recovery point lag per source (postgres replicas, telemetry pipeline)',
      labelNames: ['source'],
      registers: [deps.metrics],
    }),
  }
}

export function createSla(deps: AppDeps): StewardModule {
  const cfg = deps.config.sla
  const ch = deps.clickhouse
  // A `steward worker` process has no ClickHouse: the SLA engine lives in `serve` only.
  if (!ch) return { name: 'sla' }
  const ctx: SlaContext = { pool: deps.pool, ch, config: cfg, log: deps.log }
  const gauges = createGauges(deps)
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
  return {
    name: 'sla',
    routes: slaRoutes(ctx),
    // The cost dashboard prices usage in SQL: give ClickHouse this instance's price list.
    async start() {
      await syncPrices(ch, cfg.prices)
    },
    async readiness() {
      const { rows } = await deps.pool.query<{ month: string | null }>(
        `SELECT to_char(max(month), 'YYYY-MM') AS month FROM sla_month_closes`,
      )
      return { lastClosedMonth: rows[0]?.month ?? null }
    },
  }
}

/** The RTO target (seconds) of a recovery kind: `sla.rtoTargetsSeconds` (docs/sla.md, "RTO and RPO"). */
export function rtoTargetSeconds(config: SlaConfig, kind: keyof SlaConfig['rtoTargetsSeconds']): number {
  return config.rtoTargetsSeconds[kind]
}

/** The cost of one run at the prices in effect when its work happened (for GET /v1/runs/:id). */
export function runCost(deps: AppDeps, runId: string) {
  if (!deps.clickhouse) throw new Error('run cost needs ClickHouse (serve)')
  return loadRunCost(deps.clickhouse, deps.config.sla.prices, deps.config.sla.prices.currency, runId)
}

/** The factory's uptime on each of the last `days` UTC days, today included (the public status page). */
export function factoryUptime(deps: AppDeps, days: number, now = new Date()) {
  if (!deps.clickhouse) throw new Error('factory uptime needs ClickHouse (serve)')
  return factoryUptimeDays({ pool: deps.pool, ch: deps.clickhouse, config: deps.config.sla }, days, now)
}
