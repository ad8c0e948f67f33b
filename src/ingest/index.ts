// The ingest module (docs/telemetry.md): the telemetry event model, the PostgreSQL outbox, the
// relay that ships it to ClickHouse, POST /v1/events, the OTLP/HTTP receiver (/v1/otlp), the trace
// context of runs and attempts, and control-plane heartbeats. Other modules import only from this
// file.
import { defineModule, type StewardModule } from '../module.ts'
import type { ContractStarts } from './admission.ts'
import { ingestConfigSchema } from './config.ts'
import { IngestGate } from './gate.ts'
import { GroupCommitter } from './group-commit.ts'
import { startHeartbeats } from './heartbeat.ts'
import { createIngestMetrics } from './metrics.ts'
import type { RunLinks } from './otlp/admit.ts'
import { statusResponse } from './otlp/response.ts'
import { otlpRoutes } from './otlp/routes.ts'
import { deadEventsSince, type OutboxLag, outboxLag, pruneEventIds } from './outbox.ts'
import { OutboxRelay } from './relay.ts'
import { deadRows } from './relay-store.ts'
import { ingestRoutes } from './routes.ts'
import { applyOtelTtl, applyRawTtl } from './ttl.ts'

/** How long the route trusts a measured outbox lag before measuring again. */
const LAG_CACHE_MS = 1_000

export interface IngestModule extends StewardModule {
  /** Absent where there is no ClickHouse (a `steward worker` process) or the relay is disabled. */
  relay?: OutboxRelay
  committer: GroupCommitter
  /** The telemetry outbox now: events waiting for ClickHouse and the age of the oldest. */
  outboxLag(): Promise<OutboxLag>
  /** Outbox rows set aside as invalid events (telemetry_outbox_dead) since `since`. */
  deadEventsSince(since: Date): Promise<number>
}

/** What ingest uses of the modules beside it (wired by src/server/compose.ts). */
export interface IngestUses {
  /** The tenants' contract start per customer: how far back the operator may send its history. */
  contractStarts?: ContractStarts
  /**
   * Runs and jobs by id (the orchestrator's, above ingest: handed in by the composition root), so
   * the OTLP receiver links spans to them and refuses a span naming another customer's run.
   */
  runLinks?: RunLinks
}

export const createIngest = defineModule(
  'ingest',
  ingestConfigSchema,
  (deps, uses: IngestUses): IngestModule => {
    const cfg = deps.config
    const log = deps.log.child({ module: 'ingest' })
    const metrics = createIngestMetrics(
      deps.metrics,
      () => outboxLag(deps.pool),
      () => deadRows(deps.pool),
    )
    const relay =
      deps.clickhouse && cfg.relay.enabled
        ? new OutboxRelay({
            pool: deps.pool,
            clickhouse: deps.clickhouse,
            config: cfg.relay,
            log,
            instanceId: deps.instanceId,
            metrics,
          })
        : undefined
    const committer = new GroupCommitter(deps.pool, cfg.http.maxPendingEvents, () => relay?.nudge())

    let cached: { at: number; lag: Promise<OutboxLag> } | undefined
    const cachedLag = (): Promise<OutboxLag> => {
      if (!cached || Date.now() - cached.at > LAG_CACHE_MS) {
        const lag = outboxLag(deps.pool)
        cached = { at: Date.now(), lag }
        lag.catch(() => (cached = undefined))
      }
      return cached.lag
    }

    const gate = new IngestGate({
      maxConcurrentRequests: cfg.http.maxConcurrentRequests,
      maxBacklog: cfg.http.maxBacklog,
      lag: cachedLag,
    })
    const onWriteError = (err: unknown) => log.error('telemetry write to the outbox failed', { error: err })
    const routes = ingestRoutes({
      config: cfg.http,
      committer,
      gate,
      contractStarts: uses.contractStarts,
      metrics,
      onWriteError,
    })
    if (cfg.otlp.enabled)
      otlpRoutes(routes, {
        http: cfg.http,
        otlp: cfg.otlp,
        committer,
        gate,
        contractStarts: uses.contractStarts,
        runLinks: uses.runLinks,
        metrics,
        onWriteError,
      })

    deps.scheduler.register({
      name: 'ingest.prune-event-ids',
      cron: '23 * * * *',
      async run() {
        return { pruned: await pruneEventIds(deps.pool, cfg.dedupWindowHours) }
      },
    })

    let heartbeats: { stop(): Promise<void> } | undefined
    return {
      name: 'ingest',
      relay,
      outboxLag: () => outboxLag(deps.pool),
      deadEventsSince: (since) => deadEventsSince(deps.pool, since),
      committer,
      routes,
      // The OTLP routes answer errors, authentication's included, as OTLP does (google.rpc.Status).
      errorResponse: (c, err) =>
        c.req.path.startsWith('/v1/otlp/')
          ? statusResponse(c, err, (e) => log.error('unhandled error', { path: c.req.path, error: e }))
          : undefined,
      async start() {
        if (deps.clickhouse) {
          await applyRawTtl(deps.clickhouse, cfg.rawTtlDays, log)
          await applyOtelTtl(deps.clickhouse, cfg.otlp.ttlDays, log)
        }
        relay?.start()
        // Control-plane heartbeats come from serve (the process with ClickHouse), not from workers.
        if (cfg.heartbeatIntervalMs > 0 && deps.clickhouse) {
          heartbeats = startHeartbeats({
            pool: deps.pool,
            clickhouse: deps.clickhouse,
            instanceId: deps.instanceId,
            intervalMs: cfg.heartbeatIntervalMs,
            log,
            onBeat: () => relay?.nudge(),
          })
        }
      },
      async stop() {
        await heartbeats?.stop()
        await committer.flush()
        await relay?.stop()
      },
      async readiness() {
        const [lag, dead] = await Promise.all([outboxLag(deps.pool), deadRows(deps.pool)])
        return {
          outboxBacklog: lag.backlog,
          outboxOldestAgeSeconds: Math.round(lag.oldestAgeSeconds * 10) / 10,
          // Rows set aside for an operator (docs/telemetry.md, "When a row is refused").
          outboxDeadRows: dead,
          relay: relay ? relay.status() : 'not running in this process',
        }
      },
    }
  },
)

export * from './events.ts'
export type { RunLink, RunLinks } from './otlp/admit.ts'
export {
  appendEvents,
  type EventSource,
  type NewEvent,
  type OutboxLag,
  outboxLag,
  shippedBefore,
  stewardOutboxCtes,
} from './outbox.ts'
export { OutboxRelay } from './relay.ts'
export { chTime, toRow } from './rows.ts'
export { attemptSpanId, attemptTraceContext, runTraceId } from './trace-context.ts'
