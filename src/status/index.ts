// The status module (docs/customers.md): the factory's public status page, its JSON and its Atom
// feed. It reads the lower modules only through the services the composition root hands it; only
// the customer portal (src/portal) reads it, for the public snapshot.
import type { IncidentsModule } from '../incidents/index.ts'
import type { IngestModule } from '../ingest/index.ts'
import { defineModule, type StewardModule } from '../module.ts'
import type { OrchestratorModule } from '../orchestrator/index.ts'
import type { SlaModule } from '../sla/index.ts'
import type { TenantsModule } from '../tenants/index.ts'
import { statusConfigSchema } from './config.ts'
import { statusRoutes } from './routes.ts'
import type { StatusSnapshot } from './schemas.ts'
import { buildSnapshot } from './snapshot.ts'

export interface StatusModule extends StewardModule {
  /** The public snapshot the page shows (cached for `status.cacheSeconds`). */
  snapshot(): Promise<StatusSnapshot>
  /** Builds a fresh snapshot on the next request (tests, after a change they want to see at once). */
  invalidate(): void
}

export interface StatusUses {
  /** Only to scrub customers' names and ids out of public text. */
  tenants: Pick<TenantsModule, 'customers'>
  orchestrator: Pick<OrchestratorModule, 'queueStats' | 'defaultPool'>
  ingest: Pick<IngestModule, 'outboxLag' | 'deadEventsSince'>
  sla: Pick<SlaModule, 'factoryUptime' | 'uptimeTarget'>
  incidents: Pick<IncidentsModule, 'publicIncidents' | 'pagingHealth' | 'limits'>
  /** Where this Steward answers: the feed's id and links. */
  baseUrl: string
}

export const createStatus = defineModule(
  'status',
  statusConfigSchema,
  (deps, uses: StatusUses): StatusModule => {
    let cached: { at: number; snapshot: Promise<StatusSnapshot> } | undefined
    const snapshot = () => {
      if (!cached || Date.now() - cached.at > deps.config.cacheSeconds * 1000) {
        const next = buildSnapshot(deps, uses, deps.config)
        cached = { at: Date.now(), snapshot: next }
        next.catch(() => {
          if (cached?.snapshot === next) cached = undefined
        })
      }
      return cached.snapshot
    }
    return {
      name: 'status',
      publicRoutes: statusRoutes({ snapshot, baseUrl: uses.baseUrl }),
      snapshot,
      invalidate: () => {
        cached = undefined
      },
    }
  },
)

export { againstEstimate, duration, untilEstimate, utc } from './format.ts'
export { customerScrubber, publicTitle } from './incidents.ts'
export { COMPONENT_CSS } from './page.ts'
export { type ComponentState, type StatusComponent, type StatusSnapshot, worst } from './schemas.ts'
export { settle } from './snapshot.ts'
