// The resources of the SLA engine, one zod schema each (docs/sla.md): a plan and its versions,
// maintenance windows, a customer's month of figures and its parts, a month of figures, the
// closed credit record, the billing adjustment and the credit report. The TypeScript types are
// inferred from them, and the routes declare them as their bodies, so /openapi.json describes
// exactly what the engine computes and stores.
//
// A schema that extends another spreads its `shape` (never `.extend` of a named schema): OpenAPI
// would render that as `allOf` over a closed object, which no body can satisfy.
import { z } from '@hono/zod-openapi'
import { recoveryKinds } from '../ingest/index.ts'
import { CostFigures } from '../pricing/index.ts'

const percent = z.number().min(0).max(100)
const count = z.number().int().nonnegative()
const instant = z.iso.datetime()
export const MonthKey = z
  .string()
  .regex(/^\d{4}-(0[1-9]|1[0-2])$/, 'must be YYYY-MM')
  .openapi({ example: '2026-10' })

// ---- plans -------------------------------------------------------------------------------------

/** A credit tier: a figure below `below` (%) earns `credit` (% of the monthly fee). */
const Tier = z.object({ below: percent, credit: percent }).strict()

const ExecutionTarget = z
  .object({
    /** A run of this type is "on time" when it finished within targetMs of its creation. */
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
    executionTime: z.record(z.string().max(128), ExecutionTarget).default({}),
    monthlyFee: z.number().nonnegative().default(0),
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
  })
  .strict()
  .openapi('Plan')

export type Plan = z.infer<typeof planSchema>
export type PlanInput = z.input<typeof planSchema>

const planVersionShape = {
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

// ---- maintenance -------------------------------------------------------------------------------

/** A window as declared: in the config file (`sla.maintenance`) or by POST /v1/sla/maintenance. */
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
  .openapi('NewMaintenanceWindow')

export const MaintenanceWindow = z
  .object({
    /** null for a window of the config file. */
    id: z.number().int().nullable(),
    source: z.enum(['config', 'api']),
    /** null: factory-wide (every customer and the factory). */
    customerId: z.string().nullable(),
    start: instant,
    end: instant,
    reason: z.string(),
  })
  .openapi('MaintenanceWindow')
export type MaintenanceWindow = z.infer<typeof MaintenanceWindow>

// ---- a month's figures -------------------------------------------------------------------------

export const FigureSource = z.enum(['rollup', 'raw'])
export type FigureSource = z.infer<typeof FigureSource>

const DowntimePeriod = z.object({ start: instant, end: instant, minutes: count })

export const UptimeFigures = z
  .object({
    percent,
    minutes: count,
    maintenanceMinutes: count,
    /** Minutes before the customer existed (created mid-month): not counted. */
    notInServiceMinutes: count,
    eligibleMinutes: count,
    upMinutes: count,
    downMinutes: count,
    /** Consecutive down minutes, for a disputed credit (at most the first 500 periods). */
    downtimePeriods: z.array(DowntimePeriod),
    downtimePeriodCount: count,
    daily: z.array(
      z.object({ day: z.iso.date(), eligibleMinutes: count, downMinutes: count, percent: percent }),
    ),
  })
  .openapi('UptimeFigures')
export type UptimeFigures = z.infer<typeof UptimeFigures>
export type DowntimePeriod = z.infer<typeof DowntimePeriod>
export type DailyUptime = UptimeFigures['daily'][number]

const SuccessFigures = z.object({
  succeeded: count,
  failed: count,
  cancelled: count,
  /** succeeded + failed */
  finished: count,
  /** % of finished runs that succeeded; null when none finished. */
  successRate: percent.nullable(),
  failedByClass: z.record(z.string(), count),
  /** % of finished runs that failed, per failure class. */
  failureRateByClass: z.record(z.string(), percent),
})
export type SuccessFigures = z.infer<typeof SuccessFigures>

export const JobFigures = z
  .object({
    attempts: count,
    retried: count,
    deadLettered: count,
    /** % of started attempts that were retried; null when none started. */
    retryRate: z.number().nonnegative().nullable(),
  })
  .openapi('JobFigures')
export type JobFigures = z.infer<typeof JobFigures>

const ExecutionTimeFigures = z.object({
  runType: z.string(),
  runs: count,
  targetMs: z.number().nullable(),
  withinTarget: count.nullable(),
  /** % of succeeded runs within the target (null: no target for this run type). */
  compliancePercent: percent.nullable(),
  p50Ms: z.number(),
  p95Ms: z.number(),
  p99Ms: z.number(),
})
export type ExecutionTimeFigures = z.infer<typeof ExecutionTimeFigures>

export const RtoFigures = z
  .object({
    kind: z.enum(recoveryKinds),
    targetSeconds: z.number(),
    recoveries: count,
    withinTarget: count,
    worstSeconds: z.number().nullable(),
    p50Seconds: z.number().nullable(),
    p95Seconds: z.number().nullable(),
    met: z.boolean(),
    /** The recoveries that missed the target (event id, seconds), for a dispute (at most 100). */
    breaches: z.array(z.object({ eventId: z.string(), seconds: z.number() })),
  })
  .openapi('RtoFigures')
export type RtoFigures = z.infer<typeof RtoFigures>

export const RpoFigures = z
  .object({
    source: z.string(),
    targetSeconds: z.number(),
    samples: count,
    withinTarget: count,
    worstSeconds: z.number(),
    compliancePercent: percent,
    met: z.boolean(),
  })
  .openapi('RpoFigures')
export type RpoFigures = z.infer<typeof RpoFigures>

export const TierHit = z
  .object({
    metric: z.enum(['uptime', 'success_rate', 'execution_time']),
    /** What was measured (e.g. 99.8981 % uptime; for execution time the run type). */
    detail: z.string(),
    below: percent.nullable(),
    creditPercent: percent,
  })
  .openapi('TierHit')
export type TierHit = z.infer<typeof TierHit>

export const Evaluation = z
  .object({
    met: z.object({ uptime: z.boolean(), successRate: z.boolean(), executionTime: z.boolean() }),
    tiers: z.array(TierHit),
    /** Sum of tier credits before the cap. */
    uncappedPercent: z.number().nonnegative(),
    creditPercent: percent,
    capped: z.boolean(),
    feeCents: z.number().int(),
    creditCents: z.number().int(),
    currency: z.string(),
  })
  .openapi('Evaluation')
export type Evaluation = z.infer<typeof Evaluation>

const period = z.enum(['complete', 'month-to-date'])

/** One customer's month, evaluated against its plan: what a credit is computed from, and kept with it. */
export const CustomerMonth = z
  .object({
    customerId: z.string(),
    month: MonthKey,
    /** 'complete' once the month has ended; figures of the running month are month-to-date. */
    period,
    computedAt: instant,
    source: FigureSource,
    plan: z.object({ ...planVersionShape, ...planSchema.shape }),
    uptime: z.object({
      ...UptimeFigures.shape,
      target: percent,
      allowedDowntimeMinutes: z.number().nonnegative(),
      met: z.boolean(),
    }),
    success: z.object({ ...SuccessFigures.shape, target: percent, met: z.boolean() }),
    jobs: JobFigures,
    executionTime: z.array(
      z.object({
        ...ExecutionTimeFigures.shape,
        withinPercentTarget: percent.nullable(),
        met: z.boolean().nullable(),
      }),
    ),
    rto: z.array(RtoFigures),
    rpo: z.array(RpoFigures),
    cost: CostFigures,
    maintenance: z.array(MaintenanceWindow),
    evaluation: Evaluation,
  })
  .openapi('CustomerMonth')
export type CustomerMonth = z.infer<typeof CustomerMonth>

export const MonthFigures = z
  .object({
    month: MonthKey,
    period,
    computedAt: instant,
    source: FigureSource,
    /** The factory as a whole (signals of customer ''; factory-wide maintenance only). */
    overall: z.object({ uptime: UptimeFigures, maintenance: z.array(MaintenanceWindow) }),
    customers: z.array(CustomerMonth),
  })
  .openapi('MonthFigures')
export type MonthFigures = z.infer<typeof MonthFigures>

// ---- credits -----------------------------------------------------------------------------------

/** An immutable monthly credit record (sla_credits): the figures it was computed from, and their hash. */
export const CreditRecord = z
  .object({
    id: z.number().int(),
    customerId: z.string(),
    month: MonthKey,
    planVersion: count,
    creditPercent: percent,
    feeCents: z.number().int(),
    creditCents: z.number().int(),
    currency: z.string(),
    tiers: z.array(TierHit),
    inputs: CustomerMonth,
    /** SHA-256 of the canonical JSON of `inputs`. */
    inputsSha256: z.string(),
    computedAt: instant,
    createdAt: instant,
  })
  .openapi('CreditRecord')
export type CreditRecord = z.infer<typeof CreditRecord>

/** A credit as a billing adjustment of the cycle after the credited month (negative amount). */
export const BillingAdjustment = z
  .object({
    id: z.number().int(),
    creditId: z.number().int(),
    customerId: z.string(),
    billingCycle: MonthKey,
    amountCents: z.number().int(),
    /** amountCents in units, two decimals (e.g. "-100.00"). */
    amount: z.string(),
    currency: z.string(),
    description: z.string(),
  })
  .openapi('BillingAdjustment')
export type BillingAdjustment = z.infer<typeof BillingAdjustment>

export const CreditReportItem = z
  .object({
    customerId: z.string(),
    month: MonthKey,
    /** 'closed': the immutable record; 'provisional': the month is not closed for this customer yet. */
    status: z.enum(['closed', 'provisional']),
    creditId: z.number().int().nullable(),
    planVersion: count,
    creditPercent: percent,
    feeCents: z.number().int(),
    creditCents: z.number().int(),
    currency: z.string(),
    tiers: z.array(TierHit),
    inputsSha256: z.string().nullable(),
    figures: CustomerMonth,
  })
  .openapi('CreditReportItem')
export type CreditReportItem = z.infer<typeof CreditReportItem>

export const CreditReport = z
  .object({ month: MonthKey, generatedAt: instant, items: z.array(CreditReportItem) })
  .openapi('CreditReport')
export type CreditReport = z.infer<typeof CreditReport>

/** What a close of one month did. */
export const CloseResult = z
  .object({
    month: MonthKey,
    /** Customers computed in this run (those without a record). */
    computed: count,
    /** Records this run wrote. */
    issued: count,
  })
  .openapi('CloseResult')
export type CloseResult = z.infer<typeof CloseResult>
