// Each component's state from live signals (docs/customers.md, "Components"): the engines'
// readiness, queue figures and live workers per pool, the telemetry outbox, the PagerDuty delivery
// outbox, and the open incidents on the component. A pure function, so every rule is testable.
import type { PagingHealth } from '../incidents/index.ts'
import type { OutboxLag } from '../ingest/index.ts'
import type { QueueStat } from '../orchestrator/index.ts'
import { type ComponentState, type StatusComponent, type StatusIncident, worst } from './schemas.ts'

export interface StatusSignals {
  /** null: answers; else why not (never shown: it may name hosts). */
  postgres: string | null
  clickhouse: string | null
  /** null: could not be read. */
  pools: QueueStat[] | null
  telemetry: { lag: OutboxLag; deadLastDay: number } | null
  paging: PagingHealth | null
}

export interface StatusThresholds {
  /** The pool that always exists (orchestrator.pool), shown even when idle. */
  defaultPool: string
  /** Ready jobs waiting this long with no live worker: the pool is out (incidents' queue rule). */
  queueWithoutWorkersSeconds: number
  /** Ready jobs waiting this long although workers live: the pool is degraded. */
  slowQueueSeconds: number
  /** Telemetry this far behind is degraded (incidents' lag rule); four times as far, out. */
  telemetryLagSeconds: number
  /** A page waiting this long for PagerDuty: paging is degraded; five times as long, out. */
  pagingDelaySeconds: number
}

const minutes = (s: number) => (s < 120 ? `${Math.round(s)} s` : `${Math.round(s / 60)} min`)

function component(
  id: string,
  name: string,
  parent: string | null,
  state: ComponentState,
  detail: string,
): StatusComponent {
  return { id, name, parent, state, detail }
}

function poolComponent(q: QueueStat, t: StatusThresholds, name: (s: string) => string): StatusComponent {
  const id = `pool:${name(q.pool)}`
  const label = `Worker pool ${name(q.pool)}`
  const workers = `${q.liveWorkers} live worker${q.liveWorkers === 1 ? '' : 's'}`
  if (q.liveWorkers === 0 && q.depth > 0 && q.oldestReadyAgeSeconds >= t.queueWithoutWorkersSeconds)
    return component(
      id,
      label,
      'orchestrator',
      'outage',
      `Jobs are waiting (oldest ${minutes(q.oldestReadyAgeSeconds)}) and no worker is running`,
    )
  if (q.depth > 0 && q.oldestReadyAgeSeconds >= t.slowQueueSeconds)
    return component(
      id,
      label,
      'orchestrator',
      'degraded',
      `Jobs wait longer than usual (oldest ${minutes(q.oldestReadyAgeSeconds)}); ${workers}`,
    )
  if (q.liveWorkers === 0 && q.depth === 0 && q.running === 0)
    return component(
      id,
      label,
      'orchestrator',
      'operational',
      'Idle: no work waiting, workers scaled to zero',
    )
  return component(id, label, 'orchestrator', 'operational', `Processing jobs; ${workers}`)
}

function telemetryComponent(s: StatusSignals, t: StatusThresholds): StatusComponent {
  const c = (state: ComponentState, detail: string) =>
    component('telemetry', 'Telemetry pipeline', null, state, detail)
  if (!s.telemetry) return c('outage', 'The telemetry outbox cannot be read')
  if (s.clickhouse !== null)
    return c('outage', 'The analytics store does not answer: events wait in the outbox')
  const age = s.telemetry.lag.oldestAgeSeconds
  if (age >= 4 * t.telemetryLagSeconds) return c('outage', `Figures are ${minutes(age)} behind`)
  if (age >= t.telemetryLagSeconds) return c('degraded', `Figures are ${minutes(age)} behind`)
  if (s.telemetry.deadLastDay > 0)
    return c('degraded', `${s.telemetry.deadLastDay} invalid event(s) set aside in the last day`)
  return c('operational', 'Events reach the figures within seconds')
}

function pagingComponent(s: StatusSignals, t: StatusThresholds): StatusComponent {
  const c = (state: ComponentState, detail: string) =>
    component('paging', 'Paging (on-call)', null, state, detail)
  const p = s.paging
  if (!p) return c('outage', 'The paging outbox cannot be read')
  if (!p.enabled) return c('degraded', 'Paging is not configured: incidents are recorded, nobody is paged')
  if (p.pending > 0 && p.oldestPendingSeconds >= 5 * t.pagingDelaySeconds)
    return c('outage', `PagerDuty has not accepted pages for ${minutes(p.oldestPendingSeconds)}`)
  if (p.pending > 0 && (p.retrying > 0 || p.oldestPendingSeconds >= t.pagingDelaySeconds))
    return c('degraded', 'Pages to PagerDuty are delayed and being retried')
  if (p.rejectedLastDay > 0) return c('degraded', 'PagerDuty refused a page in the last day')
  return c('operational', 'Pages reach PagerDuty')
}

/**
 * Every component with its state. `name` scrubs pool names (a pool may be named after a
 * customer); open incidents raise the state of the components they affect.
 */
export function deriveComponents(
  s: StatusSignals,
  openIncidents: StatusIncident[],
  t: StatusThresholds,
  name: (text: string) => string,
): StatusComponent[] {
  const api =
    s.postgres !== null
      ? component('api', 'API', null, 'outage', 'The API cannot reach its database')
      : s.clickhouse !== null
        ? component('api', 'API', null, 'degraded', 'Runs are accepted; figures and reports are unavailable')
        : component('api', 'API', null, 'operational', 'Accepting requests')

  const byPool = new Map((s.pools ?? []).map((q) => [q.pool, q]))
  if (s.pools && !byPool.has(t.defaultPool))
    byPool.set(t.defaultPool, {
      pool: t.defaultPool,
      depth: 0,
      oldestReadyAgeSeconds: 0,
      running: 0,
      liveWorkers: 0,
      recommendedWorkers: 0,
    })
  const pools = [...byPool.values()]
    .sort((a, b) => a.pool.localeCompare(b.pool))
    .map((q) => poolComponent(q, t, name))

  const out = [api, component('orchestrator', 'Orchestrator', null, 'operational', ''), ...pools]
  out.push(telemetryComponent(s, t), pagingComponent(s, t))

  // An open incident is at least as bad as it says, and its title is the component's news.
  for (const i of openIncidents)
    for (const c of out)
      if (i.componentIds.includes(c.id) && worst(c.state, i.impact) !== c.state) {
        c.state = i.impact
        c.detail = i.title
      }

  const orchestrator = out[1]!
  const poolStates = pools.map((p) => p.state)
  const live = (s.pools ?? []).reduce((n, q) => n + q.liveWorkers, 0)
  if (s.postgres !== null || !s.pools) {
    orchestrator.state = 'outage'
    orchestrator.detail = 'Runs cannot be scheduled: the queue cannot be read'
  } else if (poolStates.some((p) => p !== 'operational')) {
    orchestrator.state = worst(orchestrator.state, 'degraded')
    orchestrator.detail = 'Some worker pools are impaired (below)'
  } else {
    orchestrator.detail = `Scheduling runs; ${live} live worker${live === 1 ? '' : 's'} in ${pools.length} pool${pools.length === 1 ? '' : 's'}`
  }
  return out
}
