// Two customers with distinct histories, for the customer portal's tests and screenshots: each has
// an API token, a plan with a fee, a closed previous month (a credit with its billing adjustment),
// runs (one failed and resumable, one waiting in pool gpu, which has no worker), its own failing
// probes and run telemetry (so their figures differ), and its own customer-scoped incident. A
// platform incident affects both, with an operator's update that names the first customer: the
// second must never see that name.
import type { IncidentsModule } from '../../src/incidents/index.ts'
import type { FileConfigInput, Steward } from '../../src/server/index.ts'
import type { StatusModule } from '../../src/status/index.ts'
import { type GoldenEvent, insertEvents } from '../sla/golden.ts'
import { call, failedProbes, heartbeatAt, SCENE_CONFIG } from './status-scene.ts'

const MINUTE = 60_000
const DAY = 86_400_000

export const PORTAL_CUSTOMERS = [
  { id: 'initech', name: 'Initech Systems', fee: 1_000 },
  { id: 'globex', name: 'Globex Corporation', fee: 400 },
] as const

/**
 * A Steward for the scene: the status page's scene settings (sleep jobs go to pool gpu, which has no
 * worker), the customers' plans, and generous sign-in limits.
 */
export const PORTAL_CONFIG: FileConfigInput = {
  ...SCENE_CONFIG,
  sla: {
    plans: Object.fromEntries(
      PORTAL_CUSTOMERS.map((c) => [
        c.id,
        { monthlyFee: c.fee, executionTime: { build: { targetMs: 60_000 } } },
      ]),
    ),
  },
  // Figures computed afresh for every page, so a test sees a change at once.
  portal: { loginAttempts: 1_000, figuresCacheSeconds: 0 },
}

export interface PortalSceneCustomer {
  id: string
  name: string
  token: string
  tokenId: number
  /** Its failed run (resumable) and the run waiting in pool gpu. */
  failedRunId: string
  waitingRunId: string
  /** Its own incident (success-rate burn). */
  incidentId: string
}

export interface PortalScene {
  customers: [PortalSceneCustomer, PortalSceneCustomer]
  /** The platform incident affecting both (failing API probe), with an update naming the first customer. */
  platformIncidentId: string
  previousMonth: string
}

type Json = Record<string, unknown>

/** Waits until the run reaches one of `statuses` (workers run it in the background). */
export async function runStatus(s: Steward, id: string, statuses: string[]): Promise<string> {
  for (const until = Date.now() + 20_000; ; ) {
    const r = await call(s, 'GET', `/v1/runs/${id}`)
    if (statuses.includes(String(r.status))) return String(r.status)
    if (Date.now() > until) throw new Error(`run ${id} is still ${r.status}`)
    await new Promise((res) => setTimeout(res, 50))
  }
}

/**
 * Seeds the scene on a Steward started with PORTAL_CONFIG (listening or not). `heartbeats: false`
 * when another scene already gave the factory its health signals (the screenshots).
 */
export async function seedPortalScene(s: Steward, opts: { heartbeats?: boolean } = {}): Promise<PortalScene> {
  const ch = s.deps.clickhouse!
  const incidents = s.modules.find((m) => m.name === 'incidents') as IncidentsModule
  const now = Math.floor(Date.now() / MINUTE) * MINUTE
  const monthStart = Date.UTC(new Date(now).getUTCFullYear(), new Date(now).getUTCMonth(), 1)
  const previousStart = Date.UTC(new Date(now).getUTCFullYear(), new Date(now).getUTCMonth() - 1, 1)
  const previousMonth = new Date(previousStart).toISOString().slice(0, 7)

  // Healthy control-plane heartbeats from the start of the previous month until now.
  const beats: GoldenEvent[] = []
  for (let t = previousStart; opts.heartbeats !== false && t < now; t += MINUTE) beats.push(heartbeatAt(t))
  if (beats.length) await insertEvents(ch, beats)

  const out: PortalSceneCustomer[] = []
  for (const [n, c] of PORTAL_CUSTOMERS.entries()) {
    await call(s, 'POST', '/v1/customers', {
      id: c.id,
      name: c.name,
      since: new Date(previousStart - DAY).toISOString(),
    })
    const token = (await call(s, 'POST', `/v1/customers/${c.id}/tokens`, { name: 'portal' })) as {
      id: number
      token: string
    }
    // Its own probes failed: 90 minutes (first customer) or 30 (second) of the previous month, and
    // 50 or 10 minutes early this month. Down minutes for it alone, so the figures differ.
    const probes = (start: number, count: number) =>
      failedProbes(
        `${c.id}-edge`,
        start + count * MINUTE,
        Array.from({ length: count }, (_, i) => i + 1),
        c.id,
      )
    await insertEvents(ch, [
      ...probes(previousStart + 3 * DAY, n === 0 ? 90 : 30),
      ...probes(monthStart + 2 * 3600_000, n === 0 ? 50 : 10),
    ])
    // Run telemetry this month: the first customer's runs fail more often.
    const failed = n === 0 ? 12 : 3
    await insertEvents(
      ch,
      Array.from({ length: 20 }, (_, i) => ({
        type: 'run' as const,
        ts: new Date(now - 1 - i * 1000).toISOString(),
        customerId: c.id,
        runId: `${c.id}-history-${i}`,
        runType: 'build',
        action: i < failed ? ('failed' as const) : ('succeeded' as const),
        durationMs: 1000 + i * 100,
        ...(i < failed ? { errorClass: 'transient' as const } : {}),
      })),
    )
    const run = async (steps: unknown[], type = 'build') =>
      String(
        (await call(s, 'POST', '/v1/runs', { customerId: c.id, projectId: `${c.id}-web`, type, steps })).id,
      )
    const failedRunId = await run([
      { key: 'compile', kind: 'noop' },
      {
        key: 'deploy',
        kind: 'simulate',
        dependsOn: ['compile'],
        input: { failTimes: 1, failWith: 'validation' },
      },
    ])
    const waitingRunId = await run([{ key: 'render', kind: 'sleep', input: { ms: 10 } }], 'render')
    await runStatus(s, failedRunId, ['failed'])
    out.push({
      id: c.id,
      name: c.name,
      token: token.token,
      tokenId: token.id,
      failedRunId,
      waitingRunId,
      incidentId: '',
    })
  }

  await call(s, 'POST', `/v1/sla/close?month=${previousMonth}`)

  // Now the API's edge probe fails (a platform incident for every customer; its own target, so the
  // status page's scene, seeded first for the screenshots, has not opened it), and runs burn.
  await insertEvents(ch, failedProbes('api-edge', now))
  await incidents.evaluate(new Date(now))
  // Open incidents by scope.
  const open = (await call(s, 'GET', '/v1/incidents?status=triggered&limit=500')).items as Json[]
  const byScope = new Map(open.map((i) => [String(i.scope), String(i.id)]))
  const platformIncidentId = byScope.get('probe:api-edge')!
  const [first, second] = out as [PortalSceneCustomer, PortalSceneCustomer]
  await call(s, 'POST', `/v1/incidents/${platformIncidentId}/updates`, {
    message: `Failover is under way; ${first.name} (${first.id}) sees the most errors.`,
    estimatedRecoveryAt: new Date(now + 25 * MINUTE).toISOString(),
  })
  for (const c of out) c.incidentId = byScope.get(`customer:${c.id}`) ?? ''
  ;(s.modules.find((m) => m.name === 'status') as StatusModule).invalidate()
  return { customers: [first, second], platformIncidentId, previousMonth }
}
