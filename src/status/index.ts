// The status module (docs/customers.md): the factory's public status page, its JSON and its Atom
// feed. The top layer: it reads the other modules only through their index.ts, and none reads it.
import type { AppDeps, StewardModule } from '../module.ts'
import type { StatusSnapshot } from './model.ts'
import { statusRoutes } from './routes.ts'
import { buildSnapshot } from './snapshot.ts'

/** How long one snapshot serves every request (the page is public: it must be cheap to ask for). */
const CACHE_MS = 10_000

export interface StatusModule extends StewardModule {
  /** The snapshot the routes serve (cached for CACHE_MS). */
  snapshot(): Promise<StatusSnapshot>
  /** Builds a fresh snapshot on the next request (tests, after a change they want to see). */
  invalidate(): void
}

export function createStatus(deps: AppDeps): StatusModule {
  let cached: { at: number; snapshot: Promise<StatusSnapshot> } | undefined
  const snapshot = () => {
    if (!cached || Date.now() - cached.at > CACHE_MS) {
      const next = buildSnapshot(deps)
      cached = { at: Date.now(), snapshot: next }
      next.catch(() => {
        if (cached?.snapshot === next) cached = undefined
      })
    }
    return cached.snapshot
  }
  return {
    name: 'status',
    publicRoutes: statusRoutes({
      snapshot,
      baseUrl: deps.config.incidents.links.apiUrl ?? deps.config.stewardUrl,
    }),
    snapshot,
    invalidate: () => {
      cached = undefined
    },
  }
}

export type { StatusSnapshot } from './model.ts'
export { STATUS_JSON_PATH } from './routes.ts'
