// Settings of the sla module: the "sla" section of the STEWARD_CONFIG file. Parses `{}` to the
// defaults of docs/sla.md: plans, maintenance windows, recovery targets and schedules. (Prices are
// the pricing module's; `sla.prices` in a config file is still read, as the top-level `prices`.)
import { z } from 'zod'

const percent = z.number().min(0).max(100)
const monthText = z.string().regex(/^\d{4}-(0[1-9]|1[0-2])$/, 'must be YYYY-MM')

/** A credit tier: a figure below `below` (%) earns `credit` (% of the monthly fee). */
export const tierSchema = z.object({ below: percent, credit: percent }).strict()

export const executionTargetSchema = z
  .object({
    /** A run of this type is "on time" when it finished within targetMs of its creation. */
    targetMs: z.number().int().positive(),
    /** Share (%) of the month's succeeded runs that must be on time. */
    withinPercent: percent.default(95),
  })
  .strict()

export const planSchema = z
  .object({
    uptimeTarget: percent.default(99.9),
    successRateTarget: percent.default(95),
    executionTime: z.record(z.string().max(128), executionTargetSchema).default({}),
    monthlyFee: z.number().nonnegative().default(0),
    currency: z
      .string()
      .regex(/^[A-Z]{3}$/, 'ISO 4217 code')
      .default('USD'),
    tiers: z
      .object({
        uptime: z.array(tierSchema).default([
          { below: 99.9, credit: 10 },
          { below: 99.0, credit: 25 },
          { below: 95.0, credit: 100 },
        ]),
        successRate: z.array(tierSchema).default([
          { below: 95, credit: 10 },
          { below: 90, credit: 25 },
        ]),
        /** Credit (%) when any run type misses its execution-time target. */
        executionTime: percent.default(10),
      })
      .strict()
      .prefault({}),
    /** Total credit cap (% of the monthly fee). */
    capPercent: percent.default(100),
  })
  .strict()

export type Plan = z.infer<typeof planSchema>
export type PlanInput = z.input<typeof planSchema>

export const maintenanceWindowSchema = z
  .object({
    start: z.iso.datetime({ offset: true }),
    end: z.iso.datetime({ offset: true }),
    reason: z.string().min(1).max(500),
    /** Only this customer's figures; absent: every customer and the factory. */
    customerId: z.string().min(1).optional(),
  })
  .strict()
  .refine((w) => Date.parse(w.end) > Date.parse(w.start), {
    message: 'end must be after start',
    path: ['end'],
  })

export const slaConfigSchema = z
  .object({
    schedules: z
      .object({
        /** Month-to-date figures for Grafana and an RPO sample. */
        refresh: z.string().default('*/5 * * * *'),
        /** Hourly on the 1st: the first run that finds the pipeline caught up closes the month. */
        monthlyClose: z.string().default('15 * 1 * *'),
      })
      .strict()
      .prefault({}),
    /** The first month the close considers (default: the month the first customer was created). */
    firstMonth: monthText.optional(),
    /** Plan of a customer without a plan of its own. */
    defaultPlan: planSchema.prefault({}),
    /** Per-customer plans (version 0); the admin API adds versions 1, 2, ... on top. */
    plans: z.record(z.string(), planSchema).default({}),
    maintenance: z.array(maintenanceWindowSchema).default([]),
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
  })
  .strict()

export type SlaConfig = z.infer<typeof slaConfigSchema>
