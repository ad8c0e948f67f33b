// What is declared about the SLA: a customer's plan (config file, or a version added by the API),
// the plan in force for a month, and planned maintenance windows. One zod schema per resource;
// the TypeScript types are inferred from them and the routes declare them as their bodies.
import { z } from '@hono/zod-openapi'
import { FIRST_MONTH, isMonthKey, LAST_MONTH } from '../months.ts'

/** A percentage, 0 to 100. */
export const percent = z.number().min(0).max(100)
export const count = z.number().int().nonnegative()
/** An instant, ISO 8601 in UTC. */
export const instant = z.iso.datetime()
export const MonthKey = z
  .string()
  .regex(/^\d{4}-(0[1-9]|1[0-2])$/, 'must be YYYY-MM')
  .refine(isMonthKey, `must be between ${FIRST_MONTH} and ${LAST_MONTH}`)
  .openapi({ example: '2026-10' })

/** The largest monthly fee (currency units): 10^12, whose cents are far inside exact integers. */
export const MAX_MONTHLY_FEE = 1_000_000_000_000

/** A credit tier: a figure below `below` (%) earns `credit` (% of the monthly fee). */
const Tier = z.object({ below: percent, credit: percent }).strict()

const ExecutionTarget = z
  .object({
    /** A run of this type is "on time" when it finished within targetMs of its creation, or of its last resume. */
    targetMs: z.number().int().positive(),
    /** Share (%) of the month's succeeded runs that must be on time. */
    withinPercent: percent.default(95),
  })
  .strict()

/** A plan as written (config file, POST body) parses to one with every default filled in. */
export const planSchema = z
  .object({
    uptimeTarget: percent.default(99.9),
    successRateTarget: percent.default(95),
    /**
     * Fewest counted runs for a success rate: below it the month's success rate is "insufficient
     * data" and earns no credit (a month with no counted run always is).
     */
    successRateMinimumRuns: count.default(0),
    executionTime: z.record(z.string().max(128), ExecutionTarget).default({}),
    /**
     * In currency units. Bounded so that its cents, and every sum of credits over it, stay exact
     * integers (a fee of 1e308 was stored, and every close or dry run of its month answered 500).
     */
    monthlyFee: z.number().nonnegative().max(MAX_MONTHLY_FEE).default(0),
    currency: z
      .string()
      .regex(/^[A-Z]{3}$/, 'ISO 4217 code')
      .default('USD'),
    tiers: z
      .object({
        uptime: z.array(Tier).default([
          { below: 99.9, credit: 10 },
          { below: 99.0, credit: 25 },
          { below: 95.0, credit: 100 },
        ]),
        successRate: z.array(Tier).default([
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
    /**
     * Probes the customer sends with its own token: 'evidence' (stored and shown, never moving a
     * credit) or 'counted' (they judge its minutes like the operator's probes).
     */
    customerProbes: z.enum(['evidence', 'counted']).default('evidence'),
    /** Planned maintenance minutes a month may exclude; more need an audited adjustment. */
    maintenanceCapMinutes: z.number().int().nonnegative().default(240),
  })
  .strict()
  .openapi('Plan')

export type Plan = z.infer<typeof planSchema>
export type PlanInput = z.input<typeof planSchema>

export const planVersionShape = {
  version: count,
  /** 0: the config file's plan for the customer ('config') or the default plan ('default'). */
  source: z.enum(['default', 'config', 'api']),
  effectiveFrom: MonthKey.nullable(),
}

/** The plan in force for a customer in a month. */
export const ResolvedPlan = z.object({ ...planVersionShape, plan: planSchema })
export type ResolvedPlan = z.infer<typeof ResolvedPlan>

export const PlanVersion = z
  .object({ ...planVersionShape, plan: planSchema, createdAt: instant.nullable() })
  .openapi('PlanVersion')
export type PlanVersion = z.infer<typeof PlanVersion>

/**
 * An instant (ISO 8601, any offset) inside the months Steward can hold: a window's minutes are
 * counted per month, and a start in year 0000 answered 500 when its month was computed.
 */
const heldInstant = z.iso.datetime({ offset: true }).refine((s) => {
  const t = Date.parse(s)
  return !Number.isNaN(t) && isMonthKey(new Date(t).toISOString().slice(0, 7))
}, `must be between ${FIRST_MONTH} and ${LAST_MONTH} (UTC)`)

/** A window as declared: in the config file (`sla.maintenance`) or by POST /v1/sla/maintenance. */
export const maintenanceWindowSchema = z
  .object({
    start: heldInstant,
    end: heldInstant,
    reason: z.string().min(1).max(500),
    /** Only this customer's figures; absent: every customer and the factory. */
    customerId: z.string().min(1).optional(),
    /**
     * Needed when the window is late (less than `sla.maintenanceNoticeHours` notice) or takes a
     * customer past its plan's monthly cap: it is then entered as an audited adjustment.
     */
    adjustment: z
      .object({ reason: z.string().trim().min(3).max(1000) })
      .strict()
      .optional(),
    /** Who declares it, as the operator names themselves (recorded with the token kind). */
    actor: z.string().trim().min(1).max(200).optional(),
  })
  .strict()
  .refine((w) => Date.parse(w.end) > Date.parse(w.start), {
    message: 'end must be after start',
    path: ['end'],
  })
  .openapi('NewMaintenanceWindow')
export type NewMaintenanceWindow = z.infer<typeof maintenanceWindowSchema>

export const MaintenanceWindow = z
  .object({
    id: z.number().int(),
    /** Declared in the config file ('config') or through the API ('api'). */
    source: z.enum(['config', 'api']),
    /** null: factory-wide (every customer and the factory). */
    customerId: z.string().nullable(),
    start: instant,
    end: instant,
    reason: z.string(),
    /** When Steward learnt of it (for a config window: when it first read it), and who declared it. */
    declaredAt: instant,
    declaredBy: z.string(),
    /**
     * planned: with notice, within the cap; adjustment: late or over the cap, entered with a
     * reason; refused: a config window that needed a reason and had none; cancelled. Only planned
     * windows and adjustments exclude minutes.
     */
    status: z.enum(['planned', 'adjustment', 'refused', 'cancelled']),
    adjustment: z.object({ kinds: z.array(z.enum(['late', 'over_cap'])), reason: z.string() }).nullable(),
    cancelledAt: instant.nullable(),
    cancelledBy: z.string().nullable(),
    cancelReason: z.string().nullable(),
  })
  .openapi('MaintenanceWindow')
export type MaintenanceWindow = z.infer<typeof MaintenanceWindow>
