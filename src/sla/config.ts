// Settings of the sla module: the "sla" section of the STEWARD_CONFIG file. Parses `{}` to the
// defaults of docs/sla.md: plans, maintenance windows, recovery targets and schedules. (Prices are
// the pricing module's; `sla.prices` in a config file is still read, as the top-level `prices`.)
// A plan and a maintenance window are resources of the API too: their schemas are in schemas.ts.
import { z } from 'zod'
import { MonthKey, maintenanceWindowSchema, planSchema } from './schemas/plan.ts'

export const slaConfigSchema = z
  .object({
    schedules: z
      .object({
        /** Month-to-date figures for Grafana and an RPO sample. */
        refresh: z.string().default('*/5 * * * *'),
        /**
         * Hourly: the first run that finds the pipeline caught up closes a past month; later runs
         * find nothing to do (a deferred or held month is closed by the first run after it clears).
         */
        monthlyClose: z.string().default('15 * * * *'),
        /** Daily: recomputes recently closed months and reports late data that would change them. */
        lateDataCheck: z.string().default('45 4 * * *'),
      })
      .strict()
      .prefault({}),
    /** The first month the close considers (default: the month the first customer was created). */
    firstMonth: MonthKey.optional(),
    /** Plan of a customer without a plan of its own. */
    defaultPlan: planSchema.prefault({}),
    /** Per-customer plans (version 0); the admin API adds versions 1, 2, ... on top. */
    plans: z.record(z.string(), planSchema).default({}),
    /** Windows of the config file: stored and judged (notice, cap) when first seen, like the API's. */
    maintenance: z.array(maintenanceWindowSchema).default([]),
    /** Notice a planned maintenance window needs; a later one is an audited adjustment. */
    maintenanceNoticeHours: z
      .number()
      .min(0)
      .max(24 * 365)
      .default(72),
    /** RTO targets in seconds per recovery kind. */
    rtoTargetsSeconds: z
      .object({
        control_plane_failover: z.number().positive().default(300),
        worker_recovery: z.number().positive().default(120),
        run_resume: z.number().positive().default(60),
        full_recovery: z.number().positive().default(1800),
      })
      .strict()
      .prefault({}),
    rpoTargetSeconds: z.number().positive().default(60),
    /** After an outage, the backlog is drained once no ready job is older than this (full recovery ends). */
    backlogDrainedSeconds: z.number().positive().default(60),
    /** When the factory's probes of several regions make a minute down: all of them, or a majority. */
    probeQuorum: z.enum(['all', 'majority']).default('all'),
    /** How often each serve instance writes its liveness (the witness); beats must be < 60 s apart. */
    witnessIntervalMs: z.number().int().min(1000).max(30_000).default(15_000),
    /**
     * Witnessed minutes without any factory signal in ClickHouse that a month may have and still
     * close; more hold it for an admin (0: any).
     */
    holdToleranceMinutes: z.number().int().min(0).default(0),
    /** How many months back the late-data check compares closed months with a recompute. */
    lateDataMonths: z.number().int().min(1).max(36).default(3),
  })
  .strict()

export type SlaConfig = z.infer<typeof slaConfigSchema>
