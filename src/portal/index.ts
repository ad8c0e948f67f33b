// The customer portal (docs/customers.md, "The customer portal"): a customer's own dashboard at
// /portal, signed in with one of its API tokens, on a server-side session. The top layer: it reads
// the lower modules only through the services the composition root hands it, and no module reads
// it.
import { defineModule, type StewardModule } from '../module.ts'
import { purgeAttempts } from './attempts.ts'
import { portalConfigSchema } from './config.ts'
import { portalRoutes } from './routes.ts'
import { purgeSessions } from './sessions.ts'
import type { PortalUses } from './uses.ts'

export const PURGE_JOB = 'portal.purge'

export type { PortalUses } from './uses.ts'

export const createPortal = defineModule(
  'portal',
  portalConfigSchema,
  (deps, uses: PortalUses): StewardModule => {
    const cfg = deps.config
    deps.scheduler.register({
      name: PURGE_JOB,
      cron: '*/15 * * * *',
      // Ended sessions are refused whether or not they are purged: nothing to catch up.
      catchUp: false,
      run: async () => ({
        sessions: await purgeSessions(deps.pool, cfg.idleTimeoutSeconds),
        attemptWindows: await purgeAttempts(deps.pool, cfg.loginWindowSeconds),
      }),
    })
    // The figures are the expensive part of a page (a month of telemetry): one computation per
    // customer serves every page and refresh of it for figuresCacheSeconds; a failed one is not kept.
    const figures = new Map<string, { at: number; value: ReturnType<PortalUses['sla']['customerStatus']> }>()
    const customerStatus = (customerId: string) => {
      const hit = figures.get(customerId)
      if (hit && Date.now() - hit.at < cfg.figuresCacheSeconds * 1000) return hit.value
      const value = uses.sla.customerStatus(customerId)
      if (figures.size > 10_000) figures.clear()
      figures.set(customerId, { at: Date.now(), value })
      value.catch(() => {
        if (figures.get(customerId)?.value === value) figures.delete(customerId)
      })
      return value
    }
    return {
      name: 'portal',
      publicRoutes: portalRoutes({
        pool: deps.pool,
        log: deps.log.child({ module: 'portal' }),
        config: cfg,
        uses: { ...uses, sla: { ...uses.sla, customerStatus } },
      }),
    }
  },
)
