// A factory with a history, for the status page's tests and screenshots (`npm run screenshots`):
// customers, weeks of control-plane heartbeats with an outage day and a degraded day, a past
// incident with its post-incident fields, and open incidents raised by the real detection rules
// (a failing probe, a pool with waiting jobs and no worker, a customer's failing runs), one with
// an operator's update and estimate. Operators' text names a customer on purpose: the page must
// scrub it.
import type { IncidentsModule } from '../../src/incidents/index.ts'
import type { FileConfigInput, Steward } from '../../src/server/index.ts'
import type { StatusModule } from '../../src/status/index.ts'
import { type GoldenEvent, insertEvents } from '../sla/golden.ts'

const MINUTE = 60_000
const DAY = 86_400_000

export const SCENE_CUSTOMERS = [
  { id: 'umbrella-secret', name: 'Umbrella Secret Labs' },
  { id: 'wayne-hidden', name: 'Wayne Hidden Industries' },
]

/** Config of a Steward the scene runs on: jobs of kind sleep go to pool "gpu", which has no worker. */
export const SCENE_CONFIG: FileConfigInput = {
  orchestrator: { kindPools: { sleep: 'gpu' } },
  // A loaded test machine may take seconds for the 90-day uptime query: wait for it.
  status: { signalTimeoutMs: 30_000 },
  incidents: {
    rules: {
      uptime: { enabled: false },
      telemetryLag: { enabled: false },
      queueWithoutWorkers: { minOldestAgeSeconds: 0 },
    },
  },
}

export interface StatusScene {
  now: Date
  firstServedAt: Date
  outageDay: string
  degradedDay: string
  /** The open incident on the API (failing probe), with an operator's estimate. */
  probeIncidentId: string
  estimate: string
  /** The open incident on pool gpu (estimate: the worker_recovery RTO target). */
  poolIncidentId: string
  /** The customer-scoped incident (never on the status page). */
  customerIncidentId: string
  /** The resolved incident with root cause and prevention. */
  pastIncidentId: string
}

const day = (t: number) => new Date(t).toISOString().slice(0, 10)

async function call(s: Steward, method: string, path: string, body?: unknown) {
  const res = await s.fetch(
    new Request(`http://steward.test${path}`, {
      method,
      headers: { authorization: `Bearer ${s.adminToken}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    }),
  )
  if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`)
  return res.json() as Promise<Record<string, unknown>>
}

const failedProbes = (target: string, at: number): GoldenEvent[] =>
  [3, 2, 1].map((m) => ({
    type: 'probe',
    ts: new Date(at - m * MINUTE + 5_000).toISOString(),
    customerId: '',
    target,
    ok: false,
    latencyMs: 10_000,
  }))

/** Seeds the scene on a Steward started with SCENE_CONFIG. `servedDays`: how long ago it first served. */
export async function seedStatusScene(s: Steward, opts: { servedDays?: number } = {}): Promise<StatusScene> {
  const ch = s.deps.clickhouse!
  const incidents = s.modules.find((m) => m.name === 'incidents') as IncidentsModule
  const now = Math.floor(Date.now() / MINUTE) * MINUTE
  const today = Math.floor(now / DAY) * DAY
  const firstServedAt = today - (opts.servedDays ?? 40) * DAY + 9 * 60 * MINUTE
  const outage = today - 12 * DAY
  const degraded = today - 5 * DAY

  for (const c of SCENE_CUSTOMERS) await call(s, 'POST', '/v1/customers', c)

  // One healthy heartbeat a minute since the first start, but 90 minutes on the outage day and 5 on
  // the degraded day.
  const beats: GoldenEvent[] = []
  for (let t = firstServedAt; t < now; t += MINUTE) {
    if (t >= outage + 600 * MINUTE && t < outage + 690 * MINUTE) continue
    if (t >= degraded + 300 * MINUTE && t < degraded + 305 * MINUTE) continue
    beats.push({
      type: 'heartbeat',
      ts: new Date(t + 7_000).toISOString(),
      instanceId: 'cp-1',
      component: 'control_plane',
      healthy: true,
    })
  }
  await insertEvents(ch, beats)

  // Two days ago a probe failed; it recovered, and the incident auto-resolved 25 minutes later.
  const past = now - 2 * DAY
  await insertEvents(ch, failedProbes('edge-eu', past))
  const opened = await incidents.evaluate(new Date(past))
  await incidents.evaluate(new Date(past + 10 * MINUTE))
  await incidents.evaluate(new Date(past + 25 * MINUTE))
  const pastIncidentId = opened.opened[0]!
  await call(s, 'PATCH', `/v1/incidents/${pastIncidentId}`, {
    rootCause:
      'An expired TLS certificate on the EU edge after a renewal job for Wayne Hidden Industries stalled.',
    prevention: 'Certificates are renewed 30 days ahead, and an alert fires 14 days before expiry.',
  })

  // Now: the API's probe fails, pool gpu has work and no worker, and a customer's runs fail.
  await insertEvents(ch, failedProbes('api-health', now))
  await insertEvents(
    ch,
    Array.from({ length: 20 }, (_, i) => ({
      type: 'run' as const,
      ts: new Date(now - 1 - i * 1000).toISOString(),
      customerId: SCENE_CUSTOMERS[0]!.id,
      runId: `scene-run-${i}`,
      action: i < 12 ? ('failed' as const) : ('succeeded' as const),
      durationMs: 1000,
      ...(i < 12 ? { errorClass: 'transient' as const } : {}),
    })),
  )
  await call(s, 'POST', '/v1/runs', {
    customerId: SCENE_CUSTOMERS[0]!.id,
    projectId: 'scene',
    type: 'render',
    steps: [{ key: 'wait', kind: 'sleep', input: { ms: 10 } }],
  })
  const current = await incidents.evaluate(new Date(now))
  const byScope = new Map<string, string>()
  for (const id of current.opened) {
    const i = await call(s, 'GET', `/v1/incidents/${id}`)
    byScope.set(String(i.scope), id)
  }
  const probeIncidentId = byScope.get('probe:api-health')!
  const estimate = new Date(now + 25 * MINUTE).toISOString()
  await call(s, 'POST', `/v1/incidents/${probeIncidentId}/updates`, {
    message:
      'Failover to the standby control plane is under way. Umbrella Secret Labs (umbrella-secret) and others may see errors until it completes.',
    estimatedRecoveryAt: estimate,
  })
  ;(s.modules.find((m) => m.name === 'status') as StatusModule).invalidate()
  return {
    now: new Date(now),
    firstServedAt: new Date(firstServedAt),
    outageDay: day(outage),
    degradedDay: day(degraded),
    probeIncidentId,
    estimate,
    poolIncidentId: byScope.get('pool:gpu')!,
    customerIncidentId: byScope.get(`customer:${SCENE_CUSTOMERS[0]!.id}`)!,
    pastIncidentId,
  }
}
