// Each component's state from its signals (src/status/components.ts), and the scrubbing of
// customer names out of public text (src/status/incidents.ts).
import { describe, expect, it } from 'vitest'
import type { PagingHealth } from '../../src/incidents/index.ts'
import type { QueueStat } from '../../src/orchestrator/index.ts'
import { deriveComponents, type StatusSignals, type StatusThresholds } from '../../src/status/components.ts'
import { customerScrubber } from '../../src/status/incidents.ts'
import type { StatusIncident } from '../../src/status/schemas.ts'

const thresholds: StatusThresholds = {
  defaultPool: 'default',
  queueWithoutWorkersSeconds: 60,
  slowQueueSeconds: 300,
  telemetryLagSeconds: 300,
  pagingDelaySeconds: 120,
}
const paging: PagingHealth = {
  enabled: true,
  pending: 0,
  oldestPendingSeconds: 0,
  retrying: 0,
  rejectedLastDay: 0,
  lastDeliveredAt: null,
}
const pool = (over: Partial<QueueStat> = {}): QueueStat => ({
  pool: 'default',
  depth: 0,
  oldestReadyAgeSeconds: 0,
  running: 0,
  liveWorkers: 2,
  recommendedWorkers: 1,
  ...over,
})
const healthy = (over: Partial<StatusSignals> = {}): StatusSignals => ({
  postgres: null,
  clickhouse: null,
  pools: [pool()],
  telemetry: { lag: { backlog: 0, oldestAgeSeconds: 0 }, deadLastDay: 0 },
  paging,
  ...over,
})
const states = (s: StatusSignals, incidents: StatusIncident[] = []) =>
  Object.fromEntries(deriveComponents(s, incidents, thresholds, (x) => x).map((c) => [c.id, c.state]))

describe('component states', () => {
  it('is all operational when every signal is healthy', () => {
    expect(states(healthy())).toEqual({
      api: 'operational',
      orchestrator: 'operational',
      'pool:default': 'operational',
      telemetry: 'operational',
      paging: 'operational',
    })
  })

  it('takes a pool out when jobs wait past the threshold with no live worker, and the orchestrator is degraded', () => {
    const s = healthy({
      pools: [pool(), pool({ pool: 'gpu', depth: 3, oldestReadyAgeSeconds: 61, liveWorkers: 0 })],
    })
    expect(states(s)).toMatchObject({
      'pool:gpu': 'outage',
      orchestrator: 'degraded',
      'pool:default': 'operational',
    })
    // Younger than the threshold: not yet.
    const young = healthy({ pools: [pool({ depth: 3, oldestReadyAgeSeconds: 59, liveWorkers: 0 })] })
    expect(states(young)['pool:default']).toBe('operational')
  })

  it('calls a pool degraded when jobs wait long although workers run, and an idle empty pool operational', () => {
    expect(states(healthy({ pools: [pool({ depth: 9, oldestReadyAgeSeconds: 301 })] }))['pool:default']).toBe(
      'degraded',
    )
    const idle = deriveComponents(healthy({ pools: [] }), [], thresholds, (x) => x)
    expect(idle.find((c) => c.id === 'pool:default')).toMatchObject({ state: 'operational', detail: /Idle/ })
  })

  it('reads the telemetry outbox: behind, far behind, invalid events, no ClickHouse', () => {
    const lag = (age: number, dead = 0) =>
      states(healthy({ telemetry: { lag: { backlog: 10, oldestAgeSeconds: age }, deadLastDay: dead } }))
        .telemetry
    expect(lag(299)).toBe('operational')
    expect(lag(300)).toBe('degraded')
    expect(lag(1200)).toBe('outage')
    expect(lag(0, 2)).toBe('degraded')
    expect(states(healthy({ clickhouse: 'ECONNREFUSED' }))).toMatchObject({
      api: 'degraded',
      telemetry: 'outage',
    })
  })

  it('takes everything that needs PostgreSQL out when it does not answer', () => {
    expect(
      states(healthy({ postgres: 'timed out', pools: null, telemetry: null, paging: null })),
    ).toMatchObject({
      api: 'outage',
      orchestrator: 'outage',
      telemetry: 'outage',
      paging: 'outage',
    })
  })

  it('reads paging: not configured, delayed, stuck, refused', () => {
    const p = (over: Partial<PagingHealth>) => states(healthy({ paging: { ...paging, ...over } })).paging
    expect(p({ enabled: false })).toBe('degraded')
    expect(p({ pending: 1, oldestPendingSeconds: 130 })).toBe('degraded')
    expect(p({ pending: 1, oldestPendingSeconds: 5, retrying: 1 })).toBe('degraded')
    expect(p({ pending: 1, oldestPendingSeconds: 601 })).toBe('outage')
    expect(p({ rejectedLastDay: 1 })).toBe('degraded')
    expect(p({ pending: 1, oldestPendingSeconds: 5 })).toBe('operational')
  })

  it('raises the components an open incident affects to its impact, with its title', () => {
    const incident = {
      componentIds: ['api'],
      impact: 'degraded',
      title: 'Health checks are failing',
    } as StatusIncident
    const c = deriveComponents(healthy(), [incident], thresholds, (x) => x).find((x) => x.id === 'api')!
    expect(c).toMatchObject({ state: 'degraded', detail: 'Health checks are failing' })
  })
})

describe('customer scrubbing', () => {
  const scrub = customerScrubber([
    { id: 'acme', name: 'Acme Robotics' },
    { id: 'a.b-c', name: 'Dot (Co)' },
  ])

  it('replaces ids and names as whole words, any case, whatever their characters', () => {
    expect(scrub('Acme Robotics and ACME saw errors; so did a.b-c and dot  (co).')).toBe(
      'A customer and a customer saw errors; so did a customer and a customer.',
    )
  })

  it('leaves words that only contain a customer id alone', () => {
    expect(scrub('acmeish pipelines, inacme')).toBe('acmeish pipelines, inacme')
  })
})
