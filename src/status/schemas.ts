// The public status snapshot's resources: one zod schema types the code, documents GET /v1/status in the
// OpenAPI document, and is what the HTML page and the Atom feed render.
import { z } from '@hono/zod-openapi'

export const ComponentState = z.enum(['operational', 'degraded', 'outage'])
export type ComponentState = z.infer<typeof ComponentState>

export const StatusComponent = z
  .object({
    id: z.string().openapi({ example: 'pool:default' }),
    name: z.string(),
    /** The component this one belongs to (a pool belongs to the orchestrator). */
    parent: z.string().nullable(),
    state: ComponentState,
    detail: z.string(),
  })
  .openapi('StatusComponent')
export type StatusComponent = z.infer<typeof StatusComponent>

const Update = z.object({ at: z.string(), message: z.string() })

export const StatusIncident = z
  .object({
    id: z.string(),
    title: z.string(),
    componentIds: z.array(z.string()),
    impact: z.enum(['degraded', 'outage']),
    status: z.enum(['investigating', 'acknowledged', 'resolved']),
    startedAt: z.string(),
    acknowledgedAt: z.string().nullable(),
    resolvedAt: z.string().nullable(),
    /** When recovery is expected: the operators' latest estimate, else the RTO target of its kind. */
    estimatedRecoveryAt: z.string(),
    estimateSource: z.enum(['rto_target', 'operator']),
    latestUpdate: Update.nullable(),
    /** Operators' updates, newest first. */
    updates: z.array(Update),
    /** Resolved incidents: how long it lasted against the estimate, and what was learned. */
    postIncident: z
      .object({
        durationSeconds: z.number(),
        estimatedSeconds: z.number(),
        /** Actual − estimated: positive when recovery came later than estimated. */
        differenceSeconds: z.number(),
        rootCause: z.string().nullable(),
        prevention: z.string().nullable(),
      })
      .nullable(),
  })
  .openapi('StatusIncident')
export type StatusIncident = z.infer<typeof StatusIncident>

export const UptimeDayState = z.enum(['operational', 'degraded', 'outage', 'maintenance', 'no_data'])

export const UptimeDay = z.object({
  day: z.string().openapi({ example: '2026-03-01' }),
  state: UptimeDayState,
  /** null: nothing measured (before the installation first served, or all maintenance). */
  percent: z.number().nullable(),
  downMinutes: z.number().int(),
})
export type UptimeDay = z.infer<typeof UptimeDay>

export const StatusSnapshot = z
  .object({
    generatedAt: z.string(),
    /** The worst state of any component. */
    status: ComponentState,
    summary: z.string(),
    components: z.array(StatusComponent),
    incidents: z.object({
      open: z.array(StatusIncident),
      /** Resolved in the last `uptime.days` days, newest first. */
      past: z.array(StatusIncident),
      /** Set when incidents could not be read (the lists are then empty). */
      unavailable: z.string().optional(),
    }),
    uptime: z.object({
      days: z.number().int(),
      /** The uptime target the days are coloured against (the default SLA plan's). */
      targetPercent: z.number(),
      /** Over the days with data; null when none. */
      percent: z.number().nullable(),
      /** The first health signal: days before it are "no data". */
      firstDataAt: z.string().nullable(),
      history: z.array(UptimeDay),
      /** Set when the figures could not be read (the history is then empty). */
      unavailable: z.string().optional(),
    }),
  })
  .openapi('Status')
export type StatusSnapshot = z.infer<typeof StatusSnapshot>

const rank: Record<ComponentState, number> = { operational: 0, degraded: 1, outage: 2 }

/** The worse of two states. */
export const worst = (a: ComponentState, b: ComponentState): ComponentState => (rank[b] > rank[a] ? b : a)
