// Settings of the status module: the "status" section of the STEWARD_CONFIG file (`{}` gives the
// defaults). The thresholds the detection rules also use (queue without workers, telemetry lag)
// come from the incidents module, so a component and an incident never disagree about them.
import { z } from 'zod'

export const statusConfigSchema = z
  .object({
    /** One snapshot serves every request this long (the page is public: it must be cheap to ask for). */
    cacheSeconds: z.number().min(0).max(300).default(10),
    /** Ready jobs waiting this long in a pool whose workers live: the pool is degraded. */
    slowQueueSeconds: z.number().positive().default(300),
    /** A source (a database, a module's figures) slower than this shows as unavailable, so the page never hangs. */
    signalTimeoutMs: z.number().int().min(100).max(60_000).default(2_000),
    /** A page waiting this long for PagerDuty: paging is degraded (five times as long: out). */
    pagingDelaySeconds: z.number().positive().default(120),
  })
  .strict()

export type StatusConfig = z.infer<typeof statusConfigSchema>
