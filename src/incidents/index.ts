// The incidents module (docs/incidents.md): detection rules on a schedule, the incident lifecycle,
// PagerDuty paging through a delivery outbox, PagerDuty webhooks, customer notices and reports.
// Other modules import only from this file.
import { readFileSync } from 'node:fs'
import { Counter, Gauge } from 'prom-client'
import type { AppDeps, StewardModule } from '../module.ts'
import { startDrainLoop } from './deliveries.ts'
import { type EvaluationSummary, evaluateOnce } from './evaluate.ts'
import type { LifecycleContext } from './lifecycle.ts'
import { incidentRoutes } from './routes.ts'
import { SQL } from './store.ts'
import { pagerDutyWebhookRoutes } from './webhook.ts'

export const EVALUATE_JOB = 'incidents.evaluate'

export interface IncidentsModule extends StewardModule {
  /** One detection run as of `now` (tests and tools; the scheduler runs it every tick). */
  evaluate(now?: Date): Promise<EvaluationSummary>
  /** Drains the delivery outboxes now. */
  deliver(): Promise<void>
}

export function createIncidents(deps: AppDeps): IncidentsModule {
  const cfg = deps.config.incidents
  const log = deps.log.child({ module: 'incidents' })
  const routingKey = deps.config.pagerduty.routingKey
  const ca = cfg.pagerduty.caFile ? readFileSync(cfg.pagerduty.caFile, 'utf8') : undefined
  const apiBase = cfg.links.apiUrl ?? deps.config.stewardUrl
  const ctx: LifecycleContext = {
    clickhouse: deps.clickhouse,
    paging: !!routingKey,
    source: cfg.pagerduty.source,
    links: (id) => [
      { href: `${apiBase}/v1/incidents/${id}`, text: 'incident' },
      { href: `${apiBase}/v1/incidents/${id}/report?format=markdown`, text: 'report' },
      { href: cfg.links.grafanaUrl, text: 'dashboard' },
    ],
    recovery: { kinds: cfg.recoveryKinds, sla: deps.config.sla },
  }

  const counters = {
    pagerduty: new Counter({
      name: 'steward_pagerduty_deliveries_total',
      help: 'PagerDuty Events API deliveries by outcome (delivered, rejected, rate_limited, retry)',
      labelNames: ['outcome'] as const,
      registers: [deps.metrics],
    }),
    webhook: new Counter({
      name: 'steward_webhook_deliveries_total',
      help: 'Customer webhook deliveries by outcome (delivered, rejected, retry, skipped)',
      labelNames: ['outcome'] as const,
      registers: [deps.metrics],
    }),
  }
  new Gauge({
    name: 'steward_incidents_open',
    help: 'Open (triggered or acknowledged) incidents by severity',
    labelNames: ['severity'] as const,
    registers: [deps.metrics],
    async collect() {
      this.reset()
      for (const s of ['critical', 'error', 'warning', 'info']) this.set({ severity: s }, 0)
      const { rows } = await deps.pool.query<{ severity: string; n: number }>(SQL.openBySeverity)
      for (const r of rows) this.set({ severity: r.severity }, r.n)
    },
  })

  let loop: ReturnType<typeof startDrainLoop> | undefined
  const deliveryOptions = {
    pool: deps.pool,
    log,
    delivery: cfg.delivery,
    pagerduty: routingKey ? { host: deps.config.pagerduty.eventsHost, routingKey, ca } : undefined,
    counters,
  }
  const kick = () => {
    void loop?.kick()
  }

  const evaluate = async (now = new Date()) => {
    const summary = await evaluateOnce(
      { pool: deps.pool, clickhouse: deps.clickhouse, queueOptions: deps.config.orchestrator },
      cfg,
      ctx,
      now,
    )
    for (const r of summary.rules)
      if (!r.ok) log.warn('detection rule could not run', { rule: r.rule, error: r.error })
    kick()
    return summary
  }

  deps.scheduler.register({
    name: EVALUATE_JOB,
    cron: cfg.evaluateCron,
    // A missed minute is not replayed: the next evaluation sees the same windows.
    catchUp: false,
    run: async ({ scheduledFor }) => {
      const s = await evaluate(scheduledFor)
      return {
        opened: s.opened,
        resolved: s.resolved,
        firing: s.rules.flatMap((r) => r.firing.map((scope) => `${r.rule}/${scope}`)),
        failedRules: s.rules.filter((r) => !r.ok).map((r) => `${r.rule}: ${r.error}`),
        errors: s.errors,
      }
    },
  })

  return {
    name: 'incidents',
    routes: incidentRoutes({ pool: deps.pool, clickhouse: deps.clickhouse, config: cfg, ctx, kick }),
    publicRoutes: pagerDutyWebhookRoutes({ pool: deps.pool, secret: cfg.pagerduty.webhookSecret, ctx }),
    evaluate,
    deliver: async () => {
      if (loop) return loop.kick()
    },
    async start() {
      if (routingKey) log.info('PagerDuty paging enabled', { eventsHost: deps.config.pagerduty.eventsHost })
      else
        log.warn('PagerDuty paging disabled: PAGERDUTY_ROUTING_KEY is not set; incidents are recorded only')
      if (!cfg.pagerduty.webhookSecret)
        log.info('PagerDuty webhook disabled: incidents.pagerduty.webhookSecret is not set')
      loop = startDrainLoop(deliveryOptions)
    },
    async stop() {
      await loop?.stop()
      loop = undefined
    },
    async readiness() {
      const { rows } = await deps.pool.query<{ channel: string; pending: number; oldest: number | null }>(
        `SELECT channel, count(*)::int AS pending, extract(epoch FROM now() - min(created_at))::float8 AS oldest
         FROM incident_deliveries WHERE status = 'pending' GROUP BY channel`,
      )
      return {
        paging: routingKey ? 'enabled' : 'disabled',
        pendingDeliveries: Object.fromEntries(
          rows.map((r) => [r.channel, { pending: r.pending, oldestAgeSeconds: Math.round(r.oldest ?? 0) }]),
        ),
      }
    },
  }
}

export type { RecoveryKind } from './config.ts'
export { signWebhook } from './deliveries.ts'
export { type PagerDutyStandIn, startPagerDutyStandIn } from './pagerduty-standin.ts'
export { listPublicIncidents, type PagingHealth, type PublicIncident, pagingHealth } from './public.ts'
export { verifyPagerDutySignature } from './webhook.ts'
