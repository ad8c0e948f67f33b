// Settings of the incidents module: the "incidents" section of the STEWARD_CONFIG file.
// Detection rules, their thresholds and the delivery/backoff knobs live here; `{}` parses to defaults.
import { z } from 'zod'
import { DisplayName } from '../tenants/index.ts'
import { RecoveryKind, Severity } from './schemas.ts'

const minutes = z
  .number()
  .positive()
  .max(60 * 24 * 31)
const ratio = z.number().gt(0).lt(1)

/** One burn-rate alert pair of the SRE workbook: both windows must burn faster than `burn`. */
const burnPair = z
  .object({
    longMinutes: minutes,
    shortMinutes: minutes,
    burn: z.number().positive(),
    severity: Severity,
    /**
     * 'page': the incident pages PagerDuty and notifies its customers; 'ticket': the incident is
     * recorded (timeline, API, Grafana) for working hours, never paged and no customer notified.
     */
    action: z.enum(['page', 'ticket']).default('page'),
  })
  .strict()

export type BurnPair = z.infer<typeof burnPair>

// SRE workbook table 5-8: the two fast pairs page, the 3-day pair is a ticket.
const defaultPairs: BurnPair[] = [
  { longMinutes: 60, shortMinutes: 5, burn: 14.4, severity: 'critical', action: 'page' },
  { longMinutes: 360, shortMinutes: 30, burn: 6, severity: 'critical', action: 'page' },
  { longMinutes: 4320, shortMinutes: 360, burn: 1, severity: 'warning', action: 'ticket' },
]

const rules = z
  .object({
    successRate: z
      .object({
        enabled: z.boolean().default(true),
        /**
         * Fraction of finished runs that must succeed where no plan applies (runs of no customer,
         * incident reports). A customer's SLO is its plan's successRateTarget (sla alertTargets).
         */
        slo: ratio.default(0.99),
        pairs: z.array(burnPair).min(1).default(defaultPairs),
        /** Below this many finished runs in a pair's long window the pair does not fire (quiet customers). */
        minRuns: z.number().int().min(1).default(10),
      })
      .strict()
      .prefault({}),
    uptime: z
      .object({
        enabled: z.boolean().default(true),
        /**
         * Fraction of minutes the factory must be up, for incident reports. The rule itself judges
         * the strictest plan's uptimeTarget (the default plan's without customers).
         */
        slo: ratio.default(0.999),
        pairs: z.array(burnPair).min(1).default(defaultPairs),
      })
      .strict()
      .prefault({}),
    dlqGrowth: z
      .object({
        enabled: z.boolean().default(true),
        /** Dead-lettered jobs added within `windowMinutes` that fire the rule. */
        threshold: z.number().int().min(1).default(5),
        windowMinutes: minutes.default(15),
        severity: Severity.default('error'),
      })
      .strict()
      .prefault({}),
    queueWithoutWorkers: z
      .object({
        enabled: z.boolean().default(true),
        /** Ready jobs waiting at least this long in a pool with no live worker. */
        minOldestAgeSeconds: z.number().min(0).default(60),
        severity: Severity.default('critical'),
      })
      .strict()
      .prefault({}),
    workerErrorRate: z
      .object({
        enabled: z.boolean().default(true),
        /** Failed + retried + dead-lettered attempts / all finished attempts, per pool. */
        threshold: ratio.default(0.25),
        windowMinutes: minutes.default(15),
        minAttempts: z.number().int().min(1).default(20),
        severity: Severity.default('error'),
      })
      .strict()
      .prefault({}),
    probeFailures: z
      .object({
        enabled: z.boolean().default(true),
        /** Failed probes of one target within `windowMinutes` (and none ok in the newest minute). */
        threshold: z.number().int().min(1).default(3),
        windowMinutes: minutes.default(5),
        severity: Severity.default('critical'),
      })
      .strict()
      .prefault({}),
    telemetryLag: z
      .object({
        enabled: z.boolean().default(true),
        /** Age of the oldest event still waiting in the telemetry outbox. */
        maxAgeSeconds: z.number().positive().default(300),
        severity: Severity.default('warning'),
      })
      .strict()
      .prefault({}),
    slaMonthHeld: z
      .object({
        enabled: z.boolean().default(true),
        /** A month the SLA close holds (telemetry missing for witnessed minutes): an operator's task. */
        severity: Severity.default('error'),
      })
      .strict()
      .prefault({}),
    slaLateData: z
      .object({
        enabled: z.boolean().default(true),
        /** A closed SLA month that late telemetry would change (the SLA's late-data check): an operator's decision. */
        severity: Severity.default('warning'),
      })
      .strict()
      .prefault({}),
  })
  .strict()
  .prefault({})

/**
 * The recovery kind of each rule: its recovery events are measured against that kind's RTO target
 * (sla.rtoTargetsSeconds), and an open incident's default recovery estimate is opening + that target.
 */
const recoveryKindsOfRules = z
  .object({
    success_rate_burn: RecoveryKind.default('run_resume'),
    uptime_burn: RecoveryKind.default('control_plane_failover'),
    dlq_growth: RecoveryKind.default('run_resume'),
    queue_without_workers: RecoveryKind.default('worker_recovery'),
    worker_error_rate: RecoveryKind.default('worker_recovery'),
    probe_failures: RecoveryKind.default('control_plane_failover'),
    telemetry_lag: RecoveryKind.default('control_plane_failover'),
    sla_month_held: RecoveryKind.default('full_recovery'),
    sla_late_data: RecoveryKind.default('full_recovery'),
  })
  .strict()
  .prefault({})

export const incidentsConfigSchema = z
  .object({
    /** Five-field cron of the detection run (UTC). */
    evaluateCron: z.string().default('* * * * *'),
    /** Firing evaluations in a row before an incident opens (1: at once; burn-rate pairs already smooth). */
    openAfterEvaluations: z.number().int().min(1).max(60).default(1),
    /** An open incident auto-resolves once its condition has been clear this long (hysteresis). */
    resolveAfterMinutes: minutes.default(10),
    /**
     * After an incident of a (rule, scope) resolves, a new one opens only this much later — an
     * operator resolving a still-firing condition, or a signal flapping just slower than the
     * auto-resolve, does not page again at once. 0 disables.
     */
    reopenCooldownMinutes: z.number().min(0).max(1440).default(10),
    rules,
    recoveryKinds: recoveryKindsOfRules,
    /** Links put into pages and notices. */
    links: z
      .object({
        grafanaUrl: z.string().default('http://127.0.0.1:3000/d/steward-incidents'),
        apiUrl: z.string().optional(),
      })
      .strict()
      .prefault({}),
    pagerduty: z
      .object({
        /** PEM file of an extra CA to trust for the Events API (a proxy, or the local stand-in). */
        caFile: z.string().optional(),
        /** Shared secret of the v3 webhook subscription; unset: the webhook route answers 401. */
        webhookSecret: z.string().min(8).optional(),
        /**
         * Replay window of the webhook: an event whose signed `occurred_at` is older than this (or
         * more than 5 minutes ahead) is answered 'stale' and changes nothing.
         */
        webhookMaxAgeSeconds: z
          .number()
          .int()
          .min(60)
          .max(7 * 86_400)
          .default(3_600),
        /** Source field of pages. */
        source: z.string().min(1).max(255).default('steward'),
      })
      .strict()
      .prefault({}),
    /** Customer e-mail (sent when SMTP_URL is set): the sender of every message. */
    email: z
      .object({
        /** The From address (required when SMTP_URL is set); its domain ends every Message-ID. */
        from: z.email().max(254).optional(),
        /** The From display name. */
        fromName: DisplayName.default('Steward'),
        /** Where replies go (absent: to the From address). */
        replyTo: z.email().max(254).optional(),
      })
      .strict()
      .prefault({}),
    delivery: z
      .object({
        /** How often the delivery outboxes are drained. */
        pollMs: z.number().int().min(10).default(1000),
        /** Abort an HTTP attempt after this long (SMTP: each wait — connection, greeting, reply — and the whole message). */
        timeoutMs: z.number().int().min(10).default(10_000),
        /** First retry delay; doubles per attempt, with jitter, up to maxBackoffMs. */
        backoffMs: z.number().int().min(1).default(2_000),
        maxBackoffMs: z.number().int().min(1).default(300_000),
        /** Delay after a PagerDuty 429 (PagerDuty suggests retrying no faster than every 30 s). */
        rateLimitBackoffMs: z.number().int().min(1).default(30_000),
      })
      .strict()
      .prefault({}),
  })
  .strict()

export type IncidentsConfig = z.infer<typeof incidentsConfigSchema>
