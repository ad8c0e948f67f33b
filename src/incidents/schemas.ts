// The incidents module's resources: one zod schema each types the code (the types are `z.infer` of
// them; the store maps rows to them once) and is the body the routes declare in /openapi.json.
// A schema built on another spreads the other's fields (an OpenAPI `allOf` over a closed object
// would describe nothing a client could use).
import { z } from '@hono/zod-openapi'
import { recoveryKinds } from '../ingest/index.ts'

/** An instant, ISO 8601 in UTC. */
const instant = z.iso.datetime()
const count = z.number().int().nonnegative()
/** A free-form JSON object (a rule's figures, a timeline entry's detail). */
const figures = z.record(z.string(), z.unknown())

/** PagerDuty's severities, most severe first. */
export const Severity = z.enum(['critical', 'error', 'warning', 'info'])
export type Severity = z.infer<typeof Severity>

export const IncidentStatus = z.enum(['triggered', 'acknowledged', 'resolved'])
export type IncidentStatus = z.infer<typeof IncidentStatus>

/** Where an estimate came from: the RTO target of the incident's recovery kind, or an operator. */
export const EstimateSource = z.enum(['rto_target', 'operator'])
export type EstimateSource = z.infer<typeof EstimateSource>

export const RecoveryKind = z.enum(recoveryKinds)
export type RecoveryKind = z.infer<typeof RecoveryKind>

/** What everyone who may see an incident sees of it. */
const incidentShape = {
  id: z.string().openapi({ example: 'inc_0b6f8a52-6c2e-4d8e-9d51-0f2b1a7c3e44' }),
  rule: z.string().openapi({ example: 'success_rate_burn' }),
  scope: z
    .string()
    .openapi({ description: "'' (the factory), 'customer:<id>', 'pool:<name>' or 'probe:<target>'" }),
  severity: Severity,
  status: IncidentStatus,
  summary: z.string(),
  /** The customers it affects (a customer token sees its own id only). */
  customerIds: z.array(z.string()),
  /** When the condition was first seen firing. */
  conditionSince: instant,
  openedAt: instant,
  acknowledgedAt: instant.nullable(),
  resolvedAt: instant.nullable(),
  /** 'operator', 'pagerduty' or 'auto'. */
  resolvedBy: z.string().nullable(),
  rootCause: z.string().nullable(),
  prevention: z.string().nullable(),
  /** The recovery kind its rule maps to (its RTO target is the default estimate). */
  recoveryKind: RecoveryKind.nullable(),
  /** When recovery is expected (docs/incidents.md, "Recovery estimates"). */
  estimatedRecoveryAt: instant.nullable(),
  estimateSource: EstimateSource.nullable(),
}

/** What only the admin sees: the rule's figures and the paging state. */
const internalShape = {
  details: figures,
  lastFiringAt: instant,
  clearedSince: instant.nullable(),
  paged: z.boolean(),
  silenced: z.boolean(),
}

/** An incident as the admin (and the code) sees it. */
export const Incident = z.object({ ...incidentShape, ...internalShape }).openapi('Incident')
export type Incident = z.infer<typeof Incident>

/** An incident as an affected customer sees it: no rule figures, no paging state, its own id only. */
export const CustomerIncident = z.object(incidentShape).openapi('CustomerIncident')
export type CustomerIncident = z.infer<typeof CustomerIncident>

export const TimelineKind = z.enum([
  'transition',
  'evaluation',
  'notification',
  'update',
  'estimate',
  'silence',
  'note',
])
export type TimelineKind = z.infer<typeof TimelineKind>

/** One entry of an incident's timeline: a transition, evaluation, page, notice, update, estimate, ... */
export const TimelineEntry = z
  .object({
    id: z.number().int(),
    at: instant,
    kind: TimelineKind,
    message: z.string(),
    /** What the entry records (an estimate: estimatedRecoveryAt, source, recoveryKind, targetSeconds); {} for customers. */
    detail: figures,
  })
  .openapi('TimelineEntry')
export type TimelineEntry = z.infer<typeof TimelineEntry>

const timeline = z.array(TimelineEntry)

export const IncidentWithTimeline = z
  .object({ ...incidentShape, ...internalShape, timeline })
  .openapi('IncidentWithTimeline')
export type IncidentWithTimeline = z.infer<typeof IncidentWithTimeline>

/** A customer's view with its timeline: transitions, operators' updates and estimates, without detail. */
export const CustomerIncidentWithTimeline = z
  .object({ ...incidentShape, timeline })
  .openapi('CustomerIncidentWithTimeline')
export type CustomerIncidentWithTimeline = z.infer<typeof CustomerIncidentWithTimeline>

/** The furthest ahead an operator may estimate recovery. */
const MAX_ESTIMATE_MS = 366 * 24 * 3600_000

/** POST /v1/incidents/{id}/updates. */
export const IncidentUpdate = z
  .object({
    message: z.string().trim().min(1).max(4000),
    /** When the operator expects recovery; replaces the incident's estimate (default: its RTO target). */
    estimatedRecoveryAt: z.iso
      .datetime({ offset: true, error: 'must be an ISO 8601 date-time with a time zone' })
      .refine((v) => Date.parse(v) > Date.now(), 'must be in the future')
      .refine((v) => Date.parse(v) < Date.now() + MAX_ESTIMATE_MS, 'must be within a year')
      .optional(),
  })
  .strict()
  .openapi('IncidentUpdate')

/** What an update queued: one notice per affected customer. */
export const UpdateQueued = z.object({ queued: count }).openapi('UpdateQueued')

/** PATCH /v1/incidents/{id}: the post-incident fields. */
export const PostIncidentFields = z
  .object({
    rootCause: z.string().trim().min(1).max(20_000).optional(),
    prevention: z.string().trim().min(1).max(20_000).optional(),
  })
  .strict()
  .refine((b) => b.rootCause !== undefined || b.prevention !== undefined, 'give rootCause and/or prevention')
  .openapi('PostIncidentFields')
export type PostIncidentFields = z.infer<typeof PostIncidentFields>

/** A silence / maintenance window: matching incidents are recorded and shown, not paged. */
export const Silence = z
  .object({
    id: z.number().int(),
    /** null: every rule. */
    rule: z.string().nullable(),
    /** null: every scope. */
    scope: z.string().nullable(),
    startsAt: instant,
    endsAt: instant,
    reason: z.string(),
  })
  .openapi('Silence')
export type Silence = z.infer<typeof Silence>

export const NewSilence = z
  .object({
    rule: z.string().min(1).max(128).optional(),
    scope: z.string().max(200).optional(),
    startsAt: z.iso.datetime({ offset: true }).optional(),
    endsAt: z.iso.datetime({ offset: true }),
    reason: z.string().trim().min(1).max(1000),
  })
  .strict()
  .refine((b) => new Date(b.endsAt) > new Date(b.startsAt ?? Date.now()), {
    path: ['endsAt'],
    message: 'must be after startsAt (default now)',
  })
  .openapi('NewSilence')
export type NewSilence = z.infer<typeof NewSilence>

/** One affected customer in a report: its runs in the impact window, and its error budget consumed. */
export const CustomerImpact = z
  .object({
    customerId: z.string(),
    failedRuns: count,
    finishedRuns: count,
    /** Failed runs in the incident / the error budget of the trailing 30 days (finished runs × (1 − SLO)). */
    successBudgetConsumed: z.number().nullable(),
  })
  .openapi('CustomerImpact')
export type CustomerImpact = z.infer<typeof CustomerImpact>

/** The estimates given (on the timeline) against the actual recovery. */
export const EstimateComparison = z
  .object({
    recoveryKind: RecoveryKind.nullable(),
    /** The RTO target the first estimate came from (seconds), when it came from one. */
    targetSeconds: z.number().nullable(),
    /** Every estimate, the first and each revision. */
    estimates: z.array(z.object({ at: instant, estimatedRecoveryAt: instant, source: EstimateSource })),
    firstEstimateAt: instant.nullable(),
    /** The estimate in force at resolution (or now, while open). */
    finalEstimateAt: instant.nullable(),
    /** Opening → the final estimate. */
    estimatedSeconds: z.number().nullable(),
    /** Opening → resolution (null while open). */
    actualSeconds: z.number().nullable(),
    /** Actual − estimated: positive when recovery came later than estimated. */
    differenceSeconds: z.number().nullable(),
    withinEstimate: z.boolean().nullable(),
  })
  .openapi('EstimateComparison')
export type EstimateComparison = z.infer<typeof EstimateComparison>

/** The post-incident report (JSON; the Markdown report renders the same). */
export const IncidentReport = z
  .object({
    /** The incident as the reader may see it (a customer: its view, with its timeline). */
    incident: z.union([Incident, CustomerIncidentWithTimeline]),
    timeline,
    durationSeconds: z.number(),
    /** First failed run of an affected customer in the hour before opening (success-rate incidents). */
    firstFailureAt: instant.nullable(),
    /** From the first failure (else the first firing evaluation) to opening. */
    detectionSeconds: z.number(),
    timeToAcknowledgeSeconds: z.number().nullable(),
    recoverySeconds: z.number().nullable(),
    recoveryEstimate: EstimateComparison,
    impactWindow: z.object({ from: instant, to: instant }),
    affectedCustomers: z.array(CustomerImpact),
    affectedRuns: count,
    /** Minutes the factory was down in the impact window / the 30-day downtime allowance. */
    uptimeBudgetConsumed: z.number().nullable(),
    downMinutes: z.number().nullable(),
    rootCause: z.string().nullable(),
    prevention: z.string().nullable(),
    /** Set when ClickHouse could not be read: impact figures are missing, not zero. */
    telemetryError: z.string().optional(),
  })
  .openapi('IncidentReport')
export type IncidentReport = z.infer<typeof IncidentReport>

/** The payload of an incident notice (incident.investigating, incident.update, incident.resolved). */
export const IncidentNotice = z
  .object({
    incidentId: z.string(),
    status: IncidentStatus,
    severity: Severity,
    summary: z.string(),
    message: z.string(),
    openedAt: instant,
    resolvedAt: instant.nullable(),
    estimatedRecoveryAt: instant,
    estimateSource: EstimateSource,
    at: instant,
    /** incident, report and dashboard links. */
    links: z.record(z.string(), z.string()),
  })
  .openapi('IncidentNotice')
export type IncidentNotice = z.infer<typeof IncidentNotice>

/** What the PagerDuty webhook did with an event. */
export const WebhookOutcome = z
  .object({
    /** duplicate: this event id was applied before; stale: occurred_at outside the replay window. */
    status: z.enum(['acknowledged', 'resolved', 'noted', 'unchanged', 'ignored', 'duplicate', 'stale']),
    /** The incident the event was about (absent when ignored). */
    incidentId: z.string().optional(),
  })
  .openapi('PagerDutyWebhookOutcome')
export type WebhookOutcome = z.infer<typeof WebhookOutcome>

/**
 * An incident of the shared platform as the public status page may know it: no affected customers,
 * no rule figures, no internal summary (those name customers and their figures).
 */
export const PublicIncident = z.object({
  id: z.string(),
  rule: z.string(),
  /** '' (the factory), 'probe:<target>' or 'pool:<name>'. */
  scope: z.string(),
  severity: Severity,
  status: IncidentStatus,
  openedAt: instant,
  acknowledgedAt: instant.nullable(),
  resolvedAt: instant.nullable(),
  recoveryKind: RecoveryKind.nullable(),
  estimatedRecoveryAt: instant,
  estimateSource: EstimateSource,
  /** Operators' updates, oldest first. */
  updates: z.array(z.object({ at: instant, message: z.string() })),
  rootCause: z.string().nullable(),
  prevention: z.string().nullable(),
})
export type PublicIncident = z.infer<typeof PublicIncident>

/**
 * An incident as the customer portal shows an affected customer: the public facts, the rule's
 * summary (it names that customer's own figures) and the timeline it may see.
 */
export const IncidentForCustomer = z.object({
  ...PublicIncident.omit({ updates: true }).shape,
  summary: z.string(),
  /** Transitions, operators' updates and estimates, oldest first. */
  timeline: z.array(TimelineEntry.pick({ at: true, kind: true, message: true })),
})
export type IncidentForCustomer = z.infer<typeof IncidentForCustomer>

/** Whether paging is configured, and how the PagerDuty delivery outbox is doing. */
export const PagingHealth = z.object({
  /** A PagerDuty routing key is configured. */
  enabled: z.boolean(),
  /** PagerDuty events waiting to be delivered, and the age of the oldest. */
  pending: count,
  oldestPendingSeconds: z.number().nonnegative(),
  /** Pending events whose last attempt failed (PagerDuty or the network answered badly). */
  retrying: count,
  /** Events PagerDuty refused in the last day (not retried). */
  rejectedLastDay: count,
  lastDeliveredAt: instant.nullable(),
})
export type PagingHealth = z.infer<typeof PagingHealth>
