// `steward demo`: a newcomer's first hour in two minutes. Against the running Steward (or an
// embedded one it starts) it registers three customers on different plans, sends a compressed
// month of telemetry for last month (an outage, a maintenance window, failures, token usage on
// several models), drives live work this month (retries, fallbacks, a worker killed mid-job, a
// failure burst that pages PagerDuty), closes last month and prints each customer's SLA figures
// and credits, and where to look next.
import { parseArgs } from 'node:util'
import { ConfigError } from '../config.ts'
import type { Config } from '../server/index.ts'
import { DEMO_CUSTOMERS, maintenanceWindow, monthOfTelemetry, RUN_TYPES } from './history.ts'
import { type LiveResult, liveWork, waitForPipeline } from './live.ts'
import { progress } from './progress.ts'
import { type CreditLine, printSummary } from './summary.ts'
import { connectOrStart, type DemoTarget } from './target.ts'

export interface DemoOptions {
  /** Fewer runs (the telemetry month stays whole: uptime needs every minute). */
  quick?: boolean
  /** The month to simulate and close (default: last month). */
  month?: string
  /** Start an embedded Steward even if one answers at STEWARD_URL (tests). */
  forceEmbedded?: boolean
  /** Keep the embedded Steward running and return it (tests); the caller closes it. */
  keepOpen?: boolean
  out?: (text: string) => void
}

export interface DemoResult {
  month: string
  credits: CreditLine[]
  live: LiveResult
  target: DemoTarget
}

export const previousMonth = (now = new Date()) => {
  const d = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - 1, 1))
  return `${d.getUTCFullYear()}-${String(d.getUTCMonth() + 1).padStart(2, '0')}`
}

async function setUpCustomers(target: DemoTarget, month: string, log: (l: string) => void) {
  const { api } = target
  for (const c of DEMO_CUSTOMERS) {
    const res = await api.request('POST', '/v1/customers', {
      id: c.id,
      name: c.name,
      // Onboarded before the simulated month, so the month is theirs to be credited for.
      since: `${month}-01T00:00:00Z`,
      ...(target.webhooks
        ? { webhookUrl: target.webhooks.url, webhookSecret: `demo-secret-for-${c.id}-0000` }
        : {}),
    })
    if (res.status !== 201 && res.status !== 409)
      throw new Error(`creating customer ${c.id}: ${res.status} ${await res.text()}`)
    const plans = await api.json<{ items: { monthlyFee?: number; effectiveFrom?: string | null }[] }>(
      'GET',
      `/v1/sla/plans/${c.id}`,
    )
    if (!plans.items.some((p) => p.monthlyFee === c.monthlyFee)) {
      const executionTime = Object.fromEntries(
        c.runTypes.map((t) => [t, { targetMs: RUN_TYPES[t]!.targetMs, withinPercent: 95 }]),
      )
      await api.json('POST', `/v1/sla/plans/${c.id}`, {
        plan: { monthlyFee: c.monthlyFee, currency: 'USD', executionTime },
        effectiveFrom: month,
      })
    }
  }
  const windows = await api.json<{ items: { reason: string }[] }>('GET', `/v1/sla/maintenance?month=${month}`)
  const w = maintenanceWindow(month)
  // Declared after the fact (the month is history), so it is not planned maintenance: it goes in
  // as an explicit adjustment with a reason, audited and shown on every report of the month.
  if (!windows.items.some((x) => x.reason === w.reason))
    await api.json('POST', '/v1/sla/maintenance', {
      ...w,
      adjustment: { reason: 'demo: last month is imported history, its maintenance is entered afterwards' },
    })
  log(
    `customers ${DEMO_CUSTOMERS.map((c) => c.id).join(', ')} with their plans; maintenance ${w.start} – ${w.end} (a late, audited adjustment)`,
  )
}

async function sendMonth(target: DemoTarget, month: string, quick: boolean) {
  const events = [...monthOfTelemetry(month, quick ? 0.25 : 1)]
  const bar = progress(`telemetry for ${month}`, events.length)
  const batch = 2_000
  for (let i = 0; i < events.length; i += batch) {
    const chunk = events.slice(i, i + batch)
    for (let attempt = 0; ; attempt++) {
      const res = await target.api.request('POST', '/v1/events', chunk)
      if (res.status === 202) break
      // Back-pressure is part of the protocol: wait as told and send the same batch again.
      if ((res.status === 429 || res.status === 503) && attempt < 20) {
        await new Promise((r) => setTimeout(r, Number(res.headers.get('retry-after') ?? 1) * 1000))
        continue
      }
      throw new Error(`POST /v1/events: ${res.status} ${await res.text()}`)
    }
    bar.tick(chunk.length)
  }
  bar.done()
  return events.length
}

export async function runDemo(config: Config, opts: DemoOptions = {}): Promise<DemoResult> {
  const out = opts.out ?? ((t: string) => process.stdout.write(t))
  const log = (line: string) => out(`${line}\n`)
  const month = opts.month ?? previousMonth()
  if (!/^\d{4}-(0[1-9]|1[0-2])$/.test(month)) throw new ConfigError(`--month must be YYYY-MM, got "${month}"`)
  const started = Date.now()
  const target = await connectOrStart(config, { forceEmbedded: opts.forceEmbedded, log })
  try {
    log(`\n1. customers and plans`)
    await setUpCustomers(target, month, log)
    log(`\n2. a month of factory telemetry (${month})`)
    const sent = await sendMonth(target, month, !!opts.quick)
    log(`  ${sent} events accepted`)
    log(`\n3. live work (this month)`)
    const live = await liveWork(target, { quick: !!opts.quick, dataDir: config.dataDir, log })
    await waitForPipeline(target.api, 60_000)
    log(`\n4. closing ${month}`)
    const closed = await target.api.json<{ status: string; issued: number; reason: string | null }>(
      'POST',
      `/v1/sla/close?month=${month}`,
    )
    if (closed.status === 'closed')
      log(`  ${closed.issued} credit record(s) issued (a second close issues nothing)`)
    else log(`  ${month} ${closed.status}: ${closed.reason}`)
    const credits = await printSummary(target, month, live, out, Date.now() - started)
    return { month, credits, live, target }
  } finally {
    if (!opts.keepOpen) await target.close()
  }
}

export async function demoCommand(args: string[], config: Config): Promise<void> {
  const { values } = parseArgs({ args, options: { quick: { type: 'boolean' }, month: { type: 'string' } } })
  await runDemo(config, { quick: values.quick, month: values.month })
}
