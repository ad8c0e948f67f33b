// Builds the public status snapshot from the lower modules' services: readiness of the engines,
// queue figures per pool (orchestrator), the telemetry outbox (ingest), paging and public
// incidents (incidents), the factory's daily uptime (sla) and the customer list (tenants, only to
// scrub their names out).
//
// Guarantees: the snapshot holds nothing tenant-specific (no customer id, name or per-customer
// figure); a source that cannot be read within status.signalTimeoutMs shows as its component's outage
// (or the uptime, or the incidents, as unavailable) instead of failing or hanging the page.
import type { Platform } from '../module.ts'
import { deriveComponents, type StatusSignals, type StatusThresholds } from './components.ts'
import type { StatusConfig } from './config.ts'
import { customerScrubber, toStatusIncident } from './incidents.ts'
import { type ComponentState, type StatusSnapshot, type UptimeDay, worst } from './schemas.ts'
import type { StatusUses } from './uses.ts'

/** Days of uptime history on the page. */
export const HISTORY_DAYS = 90
const DAY_MS = 86_400_000

/** The default bound on one source (status.signalTimeoutMs overrides it for the status page). */
const SIGNAL_TIMEOUT_MS = 2_000

/** Resolves with the value, or with the error's message when it fails or takes longer than `timeoutMs`. */
export async function settle<T>(
  p: () => Promise<T>,
  timeoutMs = SIGNAL_TIMEOUT_MS,
): Promise<{ ok: true; value: T } | { ok: false; error: string }> {
  let timer: NodeJS.Timeout | undefined
  try {
    const value = await Promise.race([
      p(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error('timed out')), timeoutMs)
      }),
    ])
    return { ok: true, value }
  } catch (err) {
    return { ok: false, error: (err as Error)?.message || String(err) }
  } finally {
    clearTimeout(timer)
  }
}

const summaries: Record<ComponentState, string> = {
  operational: 'All systems operational',
  degraded: 'Some systems are degraded',
  outage: 'Some systems are unavailable',
}

function dayState(percent: number | null, state: string, target: number): UptimeDay['state'] {
  if (state === 'no_data') return 'no_data'
  if (percent === null) return 'maintenance'
  if (percent >= target) return 'operational'
  return percent >= Math.min(target, 99) ? 'degraded' : 'outage'
}

export async function buildSnapshot(
  platform: Pick<Platform, 'pool' | 'clickhouse'>,
  uses: StatusUses,
  cfg: StatusConfig,
  now = new Date(),
): Promise<StatusSnapshot> {
  const ch = platform.clickhouse
  const within = <T>(p: () => Promise<T>) => settle(p, cfg.signalTimeoutMs)
  const [pg, chPing, pools, lag, dead, paging, incidents, uptime, customers] = await Promise.all([
    within(() => platform.pool.query('SELECT 1')),
    within(async () => {
      if (!ch) throw new Error('no ClickHouse in this process')
      const r = await ch.ping()
      if (!r.success) throw r.error
    }),
    within(() => uses.orchestrator.queueStats()),
    within(() => uses.ingest.outboxLag()),
    within(() => uses.ingest.deadEventsSince(new Date(now.getTime() - DAY_MS))),
    within(() => uses.incidents.pagingHealth()),
    within(() =>
      uses.incidents.publicIncidents({ since: new Date(now.getTime() - HISTORY_DAYS * DAY_MS), limit: 200 }),
    ),
    within(() => uses.sla.factoryUptime(HISTORY_DAYS, now)),
    within(() => uses.tenants.customers()),
  ])
  // Without the customer list nothing operator-written can be shown safely.
  const scrub = customers.ok ? customerScrubber(customers.value) : undefined
  const shown = incidents.ok && scrub ? incidents.value.map((i) => toStatusIncident(i, scrub)) : []
  const open = shown.filter((i) => i.status !== 'resolved')
  const signals: StatusSignals = {
    postgres: pg.ok ? null : pg.error,
    clickhouse: chPing.ok ? null : chPing.error,
    pools: pools.ok ? pools.value : null,
    telemetry: lag.ok && dead.ok ? { lag: lag.value, deadLastDay: dead.value } : null,
    paging: paging.ok ? paging.value : null,
  }
  const thresholds: StatusThresholds = {
    defaultPool: uses.orchestrator.defaultPool,
    queueWithoutWorkersSeconds: uses.incidents.limits.queueWithoutWorkersSeconds,
    slowQueueSeconds: cfg.slowQueueSeconds,
    telemetryLagSeconds: uses.incidents.limits.telemetryLagSeconds,
    pagingDelaySeconds: cfg.pagingDelaySeconds,
  }
  const components = deriveComponents(signals, open, thresholds, scrub ?? (() => 'a pool'))
  const status = components.reduce<ComponentState>((s, c) => worst(s, c.state), 'operational')
  const target = uses.sla.uptimeTarget
  return {
    generatedAt: now.toISOString(),
    status,
    summary: summaries[status],
    components,
    incidents: {
      open,
      past: shown.filter((i) => i.status === 'resolved'),
      ...(incidents.ok && scrub ? {} : { unavailable: 'Incidents are temporarily unavailable' }),
    },
    uptime: uptime.ok
      ? {
          days: HISTORY_DAYS,
          targetPercent: target,
          percent: uptime.value.percent,
          firstDataAt: uptime.value.firstSignalAt,
          history: uptime.value.days.map((d) => ({
            day: d.day,
            state: dayState(d.percent, d.state, target),
            percent: d.percent,
            downMinutes: d.downMinutes,
          })),
        }
      : {
          days: HISTORY_DAYS,
          targetPercent: target,
          percent: null,
          firstDataAt: null,
          history: [],
          unavailable: 'Uptime history is temporarily unavailable',
        },
  }
}
