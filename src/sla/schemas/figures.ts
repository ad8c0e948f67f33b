// A month's figures: one customer's month evaluated against its plan (uptime, runs and jobs,
// execution time, RTO, RPO, cost, maintenance, the tiers hit) and the month of every customer.
// What a credit is computed from, stored with the record, and served by the status, the dry run
// and the credit report.
//
// A schema that extends another spreads its `shape` (never `.extend` of a named schema): OpenAPI
// would render that as `allOf` over a closed object, which no body can satisfy.
import { z } from '@hono/zod-openapi'
import { recoveryKinds } from '../../ingest/index.ts'
import { CostFigures } from '../../pricing/index.ts'
import { count, instant, MaintenanceWindow, MonthKey, percent, planSchema, planVersionShape } from './plan.ts'

export const FigureSource = z.enum(['rollup', 'raw'])
export type FigureSource = z.infer<typeof FigureSource>

const DowntimePeriod = z.object({ start: instant, end: instant, minutes: count })

export const UptimeFigures = z
  .object({
    percent,
    minutes: count,
    maintenanceMinutes: count,
    /** Minutes before the installation first served, or before the customer's `since`: not counted. */
    notInServiceMinutes: count,
    /** Minutes without any signal that the witness saw served: telemetry missing, not counted. */
    unmeasuredMinutes: count,
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

/** A run an operator cancelled (it counts against the success rate): who and why, for a dispute. */
const OperatorCancellation = z.object({
  runId: z.string(),
  runType: z.string(),
  at: instant,
  /** The reason the operator gave ('' when none). */
  reason: z.string(),
})

/**
 * Runs by their final outcome (docs/sla.md, "Success rate"): each run counted once, in the month of
 * its last finish; a run resumed and not finished again is not counted yet.
 */
const SuccessFigures = z.object({
  succeeded: count,
  /** Failed runs that count against the SLA: every failure class but `validation`. */
  failed: count,
  /** Runs an operator (the admin token) cancelled: they count against the SLA. */
  operatorCancelled: count,
  /** The runs that count: succeeded + failed + operatorCancelled. */
  finished: count,
  /** Runs left out of the success rate, listed: the customer's own bad input, its own cancellations. */
  excluded: z.object({ validation: count, customerCancelled: count }),
  /** % of the counted runs that succeeded, rounded down; null when none counted. */
  successRate: percent.nullable(),
  /** The plan's minimum volume: below it the success rate is insufficient data (no credit). */
  minimumRuns: count,
  /** 'insufficient_data': fewer counted runs than the minimum (at least one is always needed). */
  status: z.enum(['met', 'missed', 'insufficient_data']),
  /** Failed runs per failure class, `validation` included. */
  failedByClass: z.record(z.string(), count),
  /** % of every run finished in the month (counted or excluded) that failed, per failure class. */
  failureRateByClass: z.record(z.string(), percent),
  /** The operator's cancellations, oldest first (at most the first 100). */
  operatorCancellations: z.array(OperatorCancellation),
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

/** Succeeded runs (by final outcome) per run type, over active time: from the last resume, if any. */
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

/** One recovery: what failed (`ref`), from when until it was whole again. */
const Recovery = z.object({ ref: z.string(), startedAt: instant, recoveredAt: instant, seconds: z.number() })

export const RtoFigures = z
  .object({
    kind: z.enum(recoveryKinds),
    targetSeconds: z.number(),
    /** Recoveries that ended in the month (measured from facts: docs/sla.md). */
    recoveries: count,
    withinTarget: count,
    worstSeconds: z.number().nullable(),
    p50Seconds: z.number().nullable(),
    p95Seconds: z.number().nullable(),
    met: z.boolean(),
    /** The recoveries that missed the target, for a dispute (at most 100). */
    breaches: z.array(Recovery),
  })
  .openapi('RtoFigures')
export type RtoFigures = z.infer<typeof RtoFigures>

export const RpoFigures = z
  .object({
    /** `postgres:<replica>`, or `postgres` when there was no replica (nothing to measure). */
    source: z.string(),
    targetSeconds: z.number(),
    samples: count,
    /** Samples that measured a lag (an unmeasured one is never read as 0). */
    measuredSamples: count,
    withinTarget: count,
    worstSeconds: z.number().nullable(),
    compliancePercent: percent.nullable(),
    /** 'unmeasured' when no sample measured anything: never 'met'. */
    status: z.enum(['met', 'missed', 'unmeasured']),
    met: z.boolean().nullable(),
  })
  .openapi('RpoFigures')
export type RpoFigures = z.infer<typeof RpoFigures>

/** How far behind the telemetry pipeline was (age of the oldest event not yet in ClickHouse). */
export const TelemetryFreshness = z
  .object({
    targetSeconds: z.number(),
    samples: count,
    withinTarget: count,
    worstSeconds: z.number().nullable(),
    compliancePercent: percent.nullable(),
  })
  .openapi('TelemetryFreshness')
export type TelemetryFreshness = z.infer<typeof TelemetryFreshness>

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

/** Probes the customer sent with its own token: its evidence, counted only when its plan opts in. */
export const CustomerProbes = z
  .object({
    /** Whether they judged the customer's minutes (plan `customerProbes: 'counted'`). */
    counted: z.boolean(),
    /** Minutes (so far) with at least one of them. */
    minutes: count,
    /** Minutes in which they failed (by the probe quorum), and when (at most the first 100 periods). */
    failedMinutes: count,
    failedPeriods: z.array(DowntimePeriod),
  })
  .openapi('CustomerProbes')

/**
 * ClickHouse's signal coverage against the witness: minutes an instance served throughout (the
 * witness) for which ClickHouse holds no factory signal. Any at close holds the month.
 */
export const Coverage = z
  .object({
    /** The first in-service minute there ever was (null: never in service). */
    inServiceSince: instant.nullable(),
    witnessedMinutes: count,
    /** Witnessed minutes without any factory signal in ClickHouse (maintenance minutes included). */
    missingMinutes: count,
    missingPeriods: z.array(DowntimePeriod),
  })
  .openapi('SignalCoverage')
export type Coverage = z.infer<typeof Coverage>

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
      customerProbes: CustomerProbes,
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
    telemetryFreshness: TelemetryFreshness,
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
    overall: z.object({
      uptime: UptimeFigures,
      maintenance: z.array(MaintenanceWindow),
      coverage: Coverage,
    }),
    customers: z.array(CustomerMonth),
  })
  .openapi('MonthFigures')
export type MonthFigures = z.infer<typeof MonthFigures>
