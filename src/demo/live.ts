// The live part of the demo, in real time on this month: runs with transient and agent failures
// and token usage on several models, a worker process killed mid-job (its job is reclaimed and
// finishes elsewhere), and a burst of failing runs that opens incidents and pages PagerDuty.
import { type ChildProcess, spawn } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { ApiClient } from '../http/client.ts'
import { DEMO_CUSTOMERS, RUN_TYPES } from './history.ts'
import { progress } from './progress.ts'
import type { DemoTarget } from './target.ts'

const stewardBin = fileURLToPath(new URL('../../bin/steward.js', import.meta.url))

interface Step {
  key: string
  kind: string
  input?: unknown
  dependsOn?: string[]
  retry?: { maxAttempts?: number; backoffMs?: number }
  fallback?: { kind: string; input?: unknown }
}

const usage = (model: string, n: number) => ({
  model,
  inputTokens: 1_000 + n * 37,
  outputTokens: 300 + n * 11,
})

/** A run of `runType`: its steps as simulate jobs; `flavour` injects the failures. */
function runBody(
  customerId: string,
  runType: string,
  n: number,
  flavour: 'clean' | 'transient' | 'agent-fallback' | 'burst',
) {
  const t = RUN_TYPES[runType]!
  const steps: Step[] = t.steps.map((key, i) => ({
    key,
    kind: 'simulate',
    input: { durationMs: 50 + ((n * 7 + i * 13) % 150), usage: usage(t.model, n + i) },
    dependsOn: i ? [t.steps[i - 1]!] : undefined,
  }))
  const last = steps[steps.length - 1]!
  if (flavour === 'transient') last.input = { ...(last.input as object), failTimes: 2, failWith: 'transient' }
  if (flavour === 'agent-fallback') {
    last.input = { ...(last.input as object), failTimes: 1, failWith: 'agent' }
    last.fallback = { kind: 'simulate', input: { durationMs: 80, usage: usage('gpt-4o-mini', n) } }
  }
  if (flavour === 'burst') last.input = { ...(last.input as object), failTimes: 99, failWith: 'agent' }
  return { customerId, projectId: `${customerId}-web`, type: runType, steps }
}

async function waitForRuns(
  api: ApiClient,
  ids: string[],
  label: string,
  timeoutMs: number,
): Promise<Record<string, number>> {
  const bar = progress(label, ids.length)
  const pending = new Set(ids)
  const outcome: Record<string, number> = {}
  const deadline = Date.now() + timeoutMs
  while (pending.size && Date.now() < deadline) {
    for (const id of [...pending]) {
      const run = await api.json<{ status: string }>('GET', `/v1/runs/${id}`)
      if (['succeeded', 'failed', 'cancelled'].includes(run.status)) {
        pending.delete(id)
        outcome[run.status] = (outcome[run.status] ?? 0) + 1
        bar.tick()
      }
    }
    if (pending.size) await new Promise((r) => setTimeout(r, 300))
  }
  bar.done(pending.size ? `(${pending.size} still running)` : '')
  return outcome
}

function spawnWorker(target: DemoTarget, dataDir: string): ChildProcess {
  const file = join(dataDir, 'demo-worker.json')
  writeFileSync(file, JSON.stringify(target.workerConfig))
  return spawn(process.execPath, [stewardBin, 'worker', '--pool', 'batch', '--concurrency', '1'], {
    env: { ...process.env, DATABASE_URL: target.databaseUrl, STEWARD_CONFIG: file, LOG_LEVEL: 'warn' },
    stdio: 'ignore',
  })
}

export interface LiveResult {
  runs: Record<string, number>
  workerKill?: { runId: string; status: string; reclaimed: boolean }
  incidents: { id: string; rule: string; severity: string }[]
  pages: number
  customerNotices: number
  /** The post-incident report of the incident the demo handled. */
  reportUrl?: string
}

export async function liveWork(
  target: DemoTarget,
  opts: { quick: boolean; dataDir: string; log: (l: string) => void },
) {
  const { api } = target
  const result: LiveResult = { runs: {}, incidents: [], pages: 0, customerNotices: 0 }
  const ids: string[] = []
  const perCustomer = opts.quick ? 4 : 12
  for (const c of DEMO_CUSTOMERS) {
    for (let n = 0; n < perCustomer; n++) {
      const runType = c.runTypes[n % c.runTypes.length]!
      const flavour = n % 4 === 1 ? 'transient' : n % 4 === 3 ? 'agent-fallback' : 'clean'
      ids.push((await api.json<{ id: string }>('POST', '/v1/runs', runBody(c.id, runType, n, flavour))).id)
    }
  }
  result.runs = await waitForRuns(api, ids, 'live runs (retries, fallbacks)', 90_000)

  if (target.databaseUrl) {
    // A worker process in pool "batch" takes a long step and is killed mid-job; a second one
    // picks the job up once the lease expires.
    const victim = spawnWorker(target, opts.dataDir)
    const { id } = await api.json<{ id: string }>('POST', '/v1/runs', {
      customerId: 'acme',
      projectId: 'acme-batch',
      type: 'migration',
      steps: [{ key: 'long-sleep', kind: 'sleep', input: { ms: 2_500 } }],
    })
    const deadline = Date.now() + 30_000
    let running = false
    while (!running && Date.now() < deadline) {
      const run = await api.json<{ status: string; steps: { status: string }[] }>('GET', `/v1/runs/${id}`)
      running = run.steps.some((s) => s.status === 'running')
      if (!running) await new Promise((r) => setTimeout(r, 100))
    }
    victim.kill('SIGKILL')
    opts.log('  killed the batch worker (SIGKILL) while it ran a job; starting a replacement')
    const rescuer = spawnWorker(target, opts.dataDir)
    try {
      const outcome = await waitForRuns(api, [id], 'reclaim after a killed worker', 45_000)
      const run = await api.json<{ status: string; steps: { reclaims: number }[] }>('GET', `/v1/runs/${id}`)
      const reclaimed = run.steps.some((s) => s.reclaims > 0)
      result.workerKill = { runId: id, status: Object.keys(outcome)[0] ?? run.status, reclaimed }
    } finally {
      rescuer.kill('SIGTERM')
    }
  }

  // The burst: agent failures without a fallback land in the DLQ and burn the error budget.
  const burst: string[] = []
  for (let n = 0; n < (opts.quick ? 12 : 20); n++) {
    burst.push(
      (await api.json<{ id: string }>('POST', '/v1/runs', runBody('initech', 'review', n, 'burst'))).id,
    )
  }
  const burstOutcome = await waitForRuns(api, burst, 'failure burst (initech)', 60_000)
  for (const [k, v] of Object.entries(burstOutcome)) result.runs[k] = (result.runs[k] ?? 0) + v
  result.incidents = await awaitIncidents(target, opts.log)
  // The on-call's side: acknowledge the burn-rate page, tell the customer, resolve, write it up.
  const page = result.incidents.find((i) => i.rule === 'success_rate_burn') ?? result.incidents[0]
  if (page) {
    await api.json('POST', `/v1/incidents/${page.id}/acknowledge`)
    await api.json('POST', `/v1/incidents/${page.id}/updates`, {
      message:
        'A faulty prompt template made review runs fail; it has been rolled back and failed runs are being resumed.',
    })
    await api.json('POST', `/v1/incidents/${page.id}/resolve`)
    result.reportUrl = `${api.url}/v1/incidents/${page.id}/report?format=markdown`
  }
  // Pages (trigger per incident, then acknowledge and resolve) and notices go out through the
  // delivery outbox: give it a moment.
  const expectedPages = result.incidents.length + (page ? 2 : 0)
  const deadline = Date.now() + 15_000
  while (Date.now() < deadline) {
    const pagesDone = !target.pagerduty || target.pagerduty.accepted().length >= expectedPages
    const noticesDone = !target.webhooks || !page || target.webhooks.received.length >= 3
    if (pagesDone && noticesDone) break
    await new Promise((r) => setTimeout(r, 200))
  }
  result.pages = target.pagerduty?.accepted().length ?? 0
  result.customerNotices = target.webhooks?.received.length ?? 0
  return result
}

/** Waits for the pipeline to ship the burst, then for detection to open incidents. */
async function awaitIncidents(target: DemoTarget, log: (l: string) => void) {
  const { api } = target
  await waitForPipeline(api, 60_000)
  const steward = target.steward
  if (steward) {
    // Embedded: evaluate now instead of waiting for the next minute's tick (whose scheduled run
    // may already have happened this minute, before the burst reached ClickHouse).
    const incidents = steward.modules.find((m) => m.name === 'incidents') as {
      evaluate?: () => Promise<unknown>
    }
    await incidents.evaluate?.()
  } else {
    log('  waiting for the next detection run (every minute)…')
  }
  const deadline = Date.now() + (steward ? 10_000 : 75_000)
  for (;;) {
    const list = await api.json<{ items: { id: string; rule: string; severity: string; status: string }[] }>(
      'GET',
      '/v1/incidents',
    )
    const open = list.items.filter((i) => i.status !== 'resolved')
    if (open.length || Date.now() > deadline)
      return open.map(({ id, rule, severity }) => ({ id, rule, severity }))
    await new Promise((r) => setTimeout(r, 1_000))
  }
}

/** Resolves once the telemetry outbox is empty (everything acknowledged by ClickHouse). */
export async function waitForPipeline(api: ApiClient, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const res = await api.request('GET', '/readyz')
    const body = (await res.json()) as { ingest?: { outboxBacklog?: number } }
    if (res.ok && body.ingest?.outboxBacklog === 0) return
    if (Date.now() > deadline)
      throw new Error(`the telemetry pipeline did not catch up within ${timeoutMs / 1000}s`)
    await new Promise((r) => setTimeout(r, 250))
  }
}
