// Settings of the orchestrator module: the "orchestrator" section of the STEWARD_CONFIG file.
// Every timing is configurable so tests can run leases and backoffs in milliseconds.
import { z } from 'zod'

const ms = z.number().int().min(1)
const poolName = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/)

export const orchestratorConfigSchema = z
  .object({
    /** In-process workers started by `steward serve` (override: --workers). */
    workers: z.number().int().min(0).max(256).default(2),
    /** Jobs each in-process worker runs at once. */
    concurrency: z.number().int().min(1).max(256).default(4),
    /**
     * Of each worker's `concurrency` slots, how many it keeps as headroom: only a customer with no
     * job running in the pool may take one (its first job), so a newcomer's run starts at once
     * while another customer's backlog fills the pool. 0 (default): every slot for anyone. Costs
     * a customer alone in the pool that many slots per worker (docs/orchestrator.md, "Fair share").
     */
    headroomSlots: z.number().int().min(0).max(255).default(0),
    /** The pool in-process workers serve. */
    pool: poolName.default('default'),
    /** Pool of each kind (overrides the pool given to defineHandler; built-ins default to "default"). */
    kindPools: z.record(z.string(), poolName).default({}),
    /** A claimed job's lease; renewed every heartbeatMs while its handler runs. */
    leaseMs: ms.default(30_000),
    heartbeatMs: ms.default(10_000),
    /**
     * The local fence: a worker aborts a handler whose lease it has not renewed for
     * leaseMs - leaseFenceMarginMs (its own clock, from the last renewal that succeeded), so the
     * handler stops before the lease can expire and another worker reclaim the job. The margin
     * covers a late timer, clock drift and the handler's reaction to its signal. Default: leaseMs / 4.
     */
    leaseFenceMarginMs: z.number().int().min(0).optional(),
    /** An idle worker polls this often even without a NOTIFY (delayed retries, lost notifications). */
    pollMs: ms.default(2_000),
    /** How often workers (and serve) reclaim expired leases and mark silent workers lost. */
    reclaimEveryMs: ms.default(5_000),
    /** A worker with no heartbeat for this long is marked lost. */
    workerLostAfterMs: ms.default(60_000),
    /** Worker heartbeat telemetry events (component 'worker'). */
    heartbeatEventEveryMs: ms.default(30_000),
    /** SIGTERM / stop(): in-flight jobs may finish within this; the rest are released to the queue. */
    shutdownGraceMs: z.number().int().min(0).default(30_000),
    retry: z
      .object({
        /** Attempts of a step that keeps failing transiently (per-step override: retry.maxAttempts). */
        maxAttempts: z.number().int().min(1).max(100).default(4),
        /** Base of the exponential backoff (full jitter); per-step override: retry.backoffMs. */
        backoffMs: z.number().int().min(0).default(1_000),
        maxBackoffMs: z.number().int().min(0).default(300_000),
      })
      .strict()
      .prefault({}),
    /** Lease expiries a job may suffer before it is dead-lettered as a poison job. */
    maxReclaims: z.number().int().min(0).max(100).default(5),
    autoscale: z
      .object({
        /** Ready + running jobs one worker is expected to carry. */
        jobsPerWorker: z.number().int().min(1).default(10),
        minWorkers: z.number().int().min(0).default(0),
        maxWorkers: z.number().int().min(1).default(50),
        /** A lower recommendation waits this long after the last change (scale-up is immediate). */
        cooldownSeconds: z.number().int().min(0).default(300),
      })
      .strict()
      .prefault({}),
    /** Bounded history (docs/orchestrator.md, "History and retention"). */
    retention: z
      .object({
        /** Finished runs (and their jobs, attempts, usage), gone workers and scheduler records older than this go; 0 keeps them forever. */
        days: z.number().int().min(0).max(36_500).default(30),
        /** Runs deleted per statement (each its own short transaction). */
        batchSize: z.number().int().min(1).max(100_000).default(1_000),
      })
      .strict()
      .prefault({}),
  })
  .strict()
  .superRefine((c, ctx) => {
    // A fence at or before the first renewal would abort every job that outlives one heartbeat.
    if (leaseFenceMs(c) <= c.heartbeatMs)
      ctx.addIssue({
        code: 'custom',
        path: [c.leaseFenceMarginMs === undefined ? 'heartbeatMs' : 'leaseFenceMarginMs'],
        message: `leaseMs - leaseFenceMarginMs (${leaseFenceMs(c)} ms) must exceed heartbeatMs (${c.heartbeatMs} ms): a lease must be renewable before its fence`,
      })
  })

/** How long a worker lets a handler run without a successful renewal of its lease. */
export function leaseFenceMs(c: Pick<OrchestratorConfig, 'leaseMs' | 'leaseFenceMarginMs'>): number {
  return c.leaseMs - (c.leaseFenceMarginMs ?? Math.floor(c.leaseMs / 4))
}

export type OrchestratorConfig = z.infer<typeof orchestratorConfigSchema>

/** Defaults, for callers (benchmarks, tests) that build workers without a Config. */
export const defaultOrchestratorConfig = (): OrchestratorConfig => orchestratorConfigSchema.parse({})
