// The incidents module (docs/incidents.md): detection rules on a schedule, the incident lifecycle,
// PagerDuty paging through a delivery outbox, PagerDuty webhooks, customer notices (webhooks and
// e-mail) and reports.
// Other modules import only from this file.
import { readFileSync } from 'node:fs'
import { Counter, Gauge } from 'prom-client'
import type { EgressPolicy } from '../egress/index.ts'
import { createRouter } from '../http/openapi.ts'
import { defineModule, type StewardModule } from '../module.ts'
import type { OrchestratorModule } from '../orchestrator/index.ts'
import type { SlaModule } from '../sla/index.ts'
import type { TenantsModule } from '../tenants/index.ts'
import { incidentsConfigSchema } from './config.ts'
import { listCustomerIncidents } from './customer.ts'
import { type DeliveryOptions, startDrainLoop } from './deliveries.ts'
import { createMailer } from './email.ts'
import { type EvaluationSummary, evaluateOnce } from './evaluate.ts'
import type { LifecycleContext } from './lifecycle.ts'
import { channelFigures, lastRejected, pendingByChannel } from './outbox.ts'
import { listPublicIncidents, pagingHealth } from './public.ts'
import { incidentRoutes } from './routes/incidents.ts'
import { reportRoutes } from './routes/reports.ts'
import { silenceRoutes } from './routes/silences.ts'
import { updateRoutes } from './routes/updates.ts'
import type { RouteDeps } from './routes/views.ts'
import type { IncidentForCustomer, PagingHealth, PublicIncident } from './schemas.ts'
import { openBySeverity } from './store.ts'
import { pagerDutyWebhookRoutes } from './webhook.ts'

export const EVALUATE_JOB = 'incidents.evaluate'

export interface IncidentsModule extends StewardModule {
  /** One detection run as of `now` (tests and tools; the scheduler runs it every tick). */
  evaluate(now?: Date): Promise<EvaluationSummary>
  /** Drains the delivery outboxes now. */
  deliver(): Promise<void>
  /** Incidents of the shared platform, open and resolved since `since`, as the public may see them. */
  publicIncidents(opts: { since: Date; limit: number }): Promise<PublicIncident[]>
  /**
   * Incidents affecting one customer (open, and resolved since `since`), with the timeline it may
   * see and the recovery estimate in force (the customer portal).
   */
  customerIncidents(customerId: string, opts: { since: Date; limit: number }): Promise<IncidentForCustomer[]>
  /** Whether paging is configured, and how the PagerDuty delivery outbox is doing. */
  pagingHealth(): Promise<PagingHealth>
  /** Thresholds of the rules that also judge the status page's components. */
  limits: { queueWithoutWorkersSeconds: number; telemetryLagSeconds: number }
}

export interface IncidentsUses {
  /** Affected customers, and where their notices go (webhook, e-mail contacts). */
  tenants: Pick<TenantsModule, 'customers' | 'webhookOf' | 'contactsOf'>
  orchestrator: Pick<OrchestratorModule, 'queueStats'>
  /** The RTO targets the recovery estimates come from. */
  sla: Pick<SlaModule, 'rtoTargetSeconds' | 'heldMonths' | 'lateData' | 'alertTargets' | 'factoryMinutes'>
  /** PagerDuty Events API v2 (from the environment): no routing key, no paging. */
  paging: { routingKey: string | undefined; eventsHost: string }
  /** Customer e-mail's SMTP server (from the environment: SMTP_URL): unset, no e-mail. */
  smtpUrl: string | undefined
  /** Where this Steward's API answers, for links in pages and notices (config links.apiUrl wins). */
  apiUrl: string
  /** Customer webhooks go out under the egress policy. */
  egress: EgressPolicy
}

/** /v1/incidents and /v1/incident-silences, one route file per resource. */
function incidentsRouter(d: RouteDeps) {
  const app = createRouter()
  for (const routes of [incidentRoutes(d), updateRoutes(d), reportRoutes(d), silenceRoutes(d)])
    app.route('/', routes)
  return app
}

export const createIncidents = defineModule(
  'incidents',
  incidentsConfigSchema,
  (deps, uses: IncidentsUses): IncidentsModule => {
    const cfg = deps.config
    const log = deps.log.child({ module: 'incidents' })
    const routingKey = uses.paging.routingKey
    const ca = cfg.pagerduty.caFile ? readFileSync(cfg.pagerduty.caFile, 'utf8') : undefined
    const apiBase = cfg.links.apiUrl ?? uses.apiUrl
    const ctx: LifecycleContext = {
      clickhouse: deps.clickhouse,
      tenants: uses.tenants,
      paging: !!routingKey,
      source: cfg.pagerduty.source,
      links: (id) => [
        { href: `${apiBase}/v1/incidents/${id}`, text: 'incident' },
        { href: `${apiBase}/v1/incidents/${id}/report?format=markdown`, text: 'report' },
        { href: cfg.links.grafanaUrl, text: 'dashboard' },
      ],
      recovery: { kinds: cfg.recoveryKinds, rtoTargetSeconds: uses.sla.rtoTargetSeconds },
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
        help: 'Customer webhook deliveries by outcome (delivered, rejected, refused, retry, skipped)',
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
        for (const r of await openBySeverity(deps.pool)) this.set({ severity: r.severity }, r.n)
      },
    })

    const emailCounter = new Counter({
      name: 'steward_email_deliveries_total',
      help: 'Customer e-mail deliveries by outcome (delivered, rejected, retry, skipped)',
      labelNames: ['outcome'] as const,
      registers: [deps.metrics],
    })
    for (const outcome of ['delivered', 'rejected', 'retry']) emailCounter.inc({ outcome }, 0)
    const mailer = uses.smtpUrl ? createMailer(uses.smtpUrl, cfg.delivery.timeoutMs) : undefined

    let loop: ReturnType<typeof startDrainLoop> | undefined
    const deliveryOptions: DeliveryOptions = {
      pool: deps.pool,
      log,
      delivery: cfg.delivery,
      pagerduty: routingKey ? { host: uses.paging.eventsHost, routingKey, ca } : undefined,
      counters,
      egress: uses.egress,
      tenants: uses.tenants,
      email:
        mailer && cfg.email.from
          ? {
              mailer,
              from: { name: cfg.email.fromName, address: cfg.email.from },
              replyTo: cfg.email.replyTo,
              apiBase,
              counter: emailCounter,
            }
          : undefined,
    }
    const kick = () => {
      void loop?.kick()
    }

    const evaluate = async (now = new Date()) => {
      const summary = await evaluateOnce(
        {
          pool: deps.pool,
          clickhouse: deps.clickhouse,
          queueStats: uses.orchestrator.queueStats,
          heldMonths: uses.sla.heldMonths,
          slaLateData: uses.sla.lateData,
          alertTargets: uses.sla.alertTargets,
          factoryMinutes: uses.sla.factoryMinutes,
        },
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
      routes: incidentsRouter({ pool: deps.pool, clickhouse: deps.clickhouse, config: cfg, ctx, kick }),
      publicRoutes: pagerDutyWebhookRoutes({
        pool: deps.pool,
        secret: cfg.pagerduty.webhookSecret,
        maxAgeSeconds: cfg.pagerduty.webhookMaxAgeSeconds,
        ctx,
      }),
      evaluate,
      deliver: async () => {
        if (loop) return loop.kick()
      },
      publicIncidents: (opts) => listPublicIncidents(deps.pool, ctx.recovery, opts),
      customerIncidents: (customerId, opts) =>
        listCustomerIncidents(deps.pool, ctx.recovery, customerId, opts),
      pagingHealth: () => pagingHealth(deps.pool, !!routingKey),
      limits: {
        queueWithoutWorkersSeconds: cfg.rules.queueWithoutWorkers.minOldestAgeSeconds,
        telemetryLagSeconds: cfg.rules.telemetryLag.maxAgeSeconds,
      },
      async start() {
        if (routingKey) log.info('PagerDuty paging enabled', { eventsHost: uses.paging.eventsHost })
        else
          log.warn('PagerDuty paging disabled: PAGERDUTY_ROUTING_KEY is not set; incidents are recorded only')
        if (!cfg.pagerduty.webhookSecret)
          log.info('PagerDuty webhook disabled: incidents.pagerduty.webhookSecret is not set')
        // The endpoint is described without its password.
        if (deliveryOptions.email)
          log.info('customer e-mail enabled', { smtp: mailer!.endpoint, from: cfg.email.from })
        else log.warn('customer e-mail disabled: SMTP_URL is not set; notices go to webhooks only')
        loop = startDrainLoop(deliveryOptions)
      },
      async stop() {
        await loop?.stop()
        loop = undefined
        mailer?.close()
      },
      async readiness() {
        return {
          paging: routingKey ? 'enabled' : 'disabled',
          pendingDeliveries: await pendingByChannel(deps.pool),
          email: deliveryOptions.email
            ? {
                enabled: true,
                ...(await channelFigures(deps.pool, 'email')),
                lastRejected: await lastRejected(deps.pool, 'email'),
              }
            : { enabled: false },
        }
      },
    }
  },
)

export { type PagerDutyStandIn, startPagerDutyStandIn } from './pagerduty-standin.ts'
export type { IncidentForCustomer, PagingHealth, PublicIncident } from './schemas.ts'
