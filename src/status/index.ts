// The status module (docs/customers.md): the factory's public status page, its JSON and its Atom
// feed. It reads the lower modules only through the services the composition root hands it; only
// the customer portal (src/portal) reads it, for the public snapshot.
import { defineModule, type StewardModule } from '../module.ts'
import { statusConfigSchema } from './config.ts'
import { statusRoutes } from './routes.ts'
import type { StatusSnapshot } from './schemas.ts'
import { buildSnapshot } from './snapshot.ts'
import type { StatusUses } from './uses.ts'

export interface StatusModule extends StewardModule {
  /** The public snapshot the page shows (cached for `status.cacheSeconds`). */
  snapshot(): Promise<StatusSnapshot>
  /** Builds a fresh snapshot on the next request (tests, after a change they want to see at once). */
  invalidate(): void
}

export type { StatusUses } from './uses.ts'

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
