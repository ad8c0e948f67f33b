// The demo's closing page: per customer, last month's SLA figures against the plan, the tiers hit
// and the credit, then the live part's story and where to look next.
import type { LiveResult } from './live.ts'
import type { DemoTarget } from './target.ts'

/** The fields of GET /v1/sla/credits this page prints (see docs/sla.md for the whole shape). */
interface CreditReport {
  items: {
    customerId: string
    status: string
    planVersion: number
    creditPercent: number
    feeCents: number
    creditCents: number
    currency: string
    tiers: { metric: string; detail: string; creditPercent: number }[]
    figures: {
      uptime: { percent: number; target: number; downMinutes: number; maintenanceMinutes: number }
      success: { successRate: number | null; target: number; succeeded: number; finished: number }
      executionTime: {
        runType: string
        compliancePercent: number | null
        targetMs: number | null
        p50Ms: number
        p95Ms: number
      }[]
      cost: { total: number; infrastructure: number; ai: number; currency: string }
    }
  }[]
}

export interface CreditLine {
  customerId: string
  creditPercent: number
  creditCents: number
  currency: string
}

const money = (cents: number) =>
  (cents / 100).toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 })
const pct = (v: number | null | undefined, digits = 4) =>
  v === null || v === undefined ? 'n/a' : `${v.toFixed(digits)}%`

export async function printSummary(
  target: DemoTarget,
  month: string,
  live: LiveResult,
  out: (t: string) => void,
  elapsedMs: number,
): Promise<CreditLine[]> {
  const report = await target.api.json<CreditReport>('GET', `/v1/sla/credits?month=${month}`)
  const lines: string[] = [`\nSLA summary for ${month}`, '='.repeat(60)]
  const credits: CreditLine[] = []
  for (const item of report.items) {
    const f = item.figures
    lines.push(`\n${item.customerId}  (plan v${item.planVersion}, ${item.status})`)
    lines.push(
      `  uptime          ${pct(f.uptime.percent)}  target ${pct(f.uptime.target, 1)}  ` +
        `down ${f.uptime.downMinutes} min, maintenance ${f.uptime.maintenanceMinutes} min excluded`,
    )
    lines.push(
      `  success rate    ${pct(f.success.successRate, 2)}  target ${pct(f.success.target, 1)}  ` +
        `(${f.success.succeeded} of ${f.success.finished} finished runs)`,
    )
    for (const e of f.executionTime) {
      lines.push(
        `  time ${e.runType.padEnd(10)} ${pct(e.compliancePercent, 1)} within ${e.targetMs ? `${e.targetMs / 60_000} min` : 'no target'}` +
          `  p50 ${(e.p50Ms / 60_000).toFixed(1)} min, p95 ${(e.p95Ms / 60_000).toFixed(1)} min`,
      )
    }
    lines.push(
      `  cost            ${money(Math.round(f.cost.total * 100))} ${f.cost.currency}  ` +
        `(infrastructure ${money(Math.round(f.cost.infrastructure * 100))}, AI tokens ${money(Math.round(f.cost.ai * 100))})`,
    )
    const hits = item.tiers.filter((t) => t.creditPercent > 0)
    lines.push(
      `  tiers hit       ${hits.length ? hits.map((t) => `${t.metric} ${t.detail} → ${t.creditPercent}%`).join('; ') : 'none'}`,
    )
    lines.push(
      `  credit          ${item.creditPercent}% of ${money(item.feeCents)} ${item.currency} = ${money(item.creditCents)} ${item.currency}`,
    )
    credits.push({
      customerId: item.customerId,
      creditPercent: item.creditPercent,
      creditCents: item.creditCents,
      currency: item.currency,
    })
  }

  lines.push('\nLive work this month')
  lines.push(
    `  runs            ${Object.entries(live.runs)
      .map(([k, v]) => `${v} ${k}`)
      .join(', ')}`,
  )
  if (live.workerKill) {
    lines.push(
      `  killed worker   run ${live.workerKill.runId} ${live.workerKill.status}` +
        `${live.workerKill.reclaimed ? ' after its job was reclaimed from the dead worker' : ''}`,
    )
  }
  lines.push(
    `  incidents       ${live.incidents.length ? live.incidents.map((i) => `${i.rule} (${i.severity})`).join(', ') : 'none opened'}`,
  )
  if (live.reportUrl)
    lines.push(`  handled         acknowledged, customer updated, resolved: ${live.reportUrl}`)
  if (target.pagerduty)
    lines.push(
      `  PagerDuty       ${live.pages} event(s) accepted by the stand-in (triggers, acknowledge, resolve)`,
    )
  if (target.webhooks)
    lines.push(`  customer notices ${live.customerNotices} delivered to the customers' webhook`)

  const url = target.api.url
  lines.push('\nWhere to look next')
  lines.push(`  API docs        ${url}/docs`)
  lines.push(`  credits         ${url}/v1/sla/credits?month=${month}&format=html   (also csv, json)`)
  lines.push(
    `  report (CLI)    npx steward report sla-credits --month ${month} --format html --out credits.html`,
  )
  lines.push(`  incidents       ${url}/v1/incidents   (post-incident report: /v1/incidents/<id>/report)`)
  lines.push(`  queues, DLQ     ${url}/v1/queues, ${url}/v1/dlq`)
  lines.push(`  metrics         ${url}/metrics   dashboards: grafana/README.md`)
  if (target.steward) lines.push('  (this Steward stops with the demo; `npm start` serves the same data dir)')
  lines.push(`\ndemo finished in ${(elapsedMs / 1000).toFixed(1)} s`)
  out(`${lines.join('\n')}\n`)
  return credits
}
