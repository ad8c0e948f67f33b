// Detection rules: each reads its signal (ClickHouse telemetry, PostgreSQL queue state, the
// telemetry outbox) as of `now` and says which scopes fire. A rule whose source fails reports
// `ok: false`, and its open incidents are left as they are: missing data never resolves an incident.
//
// Guarantees (docs/incidents.md, "SLOs from the plans"):
// - the burn-rate rules judge each customer against its own plan (sla alertTargets), and the
//   factory's minutes exactly as the monthly figures do (a silent minute the witness saw served is
//   not down);
// - while the telemetry pipeline is behind (`telemetryLag.maxAgeSeconds`), the customer-facing rules
//   that read ClickHouse are not judged (ok: false): a stalled pipeline is its own operator
//   incident (telemetry_lag), never a customer outage, and it resolves nothing either;
// - an SLO incident resolves when its SLI has recovered (the uptime rule: the newest judged minute
//   is up; the success rate: the short window no longer burns), without the resolve delay;
// - a pair whose action is 'ticket' (the 3-day window) records its incident, never pages.
import type { ClickHouseClient } from '../db/clickhouse.ts'
import { chQuery } from '../db/clickhouse.ts'
import type { Queryable } from '../db/postgres.ts'
import { chTime, type OutboxLag, outboxLag } from '../ingest/index.ts'
import { getDlqSize, type QueueStat } from '../orchestrator/index.ts'
import { type AlertTargets, formatCents, type LateDataFinding, type MinuteVerdict } from '../sla/index.ts'
import { type BurnVerdict, evaluateBurn, type WindowCount, windowsOf } from './burn.ts'
import type { IncidentsConfig } from './config.ts'
import type { Severity } from './schemas.ts'

const SQL = {
  /** Failed and finished runs per customer in each window (`windows`: the countIf columns). */
  successRate: (windows: string) => `
    SELECT customer_id, ${windows} FROM events FINAL
    WHERE type = 'run' AND action IN ('succeeded', 'failed')
      AND ts > {now:DateTime64(3, 'UTC')} - toIntervalMinute({max:UInt32}) AND ts <= {now:DateTime64(3, 'UTC')}
    GROUP BY customer_id`,
  dlqGrowth: `
    SELECT customer_id, count() AS n FROM events FINAL
    WHERE type = 'job' AND action = 'dead_lettered'
      AND ts > {now:DateTime64(3, 'UTC')} - toIntervalMinute({w:UInt32}) AND ts <= {now:DateTime64(3, 'UTC')}
    GROUP BY customer_id HAVING n >= {threshold:UInt32}`,
  workerErrorRate: `
    SELECT pool, countIf(action IN ('failed', 'retried', 'dead_lettered')) AS bad, count() AS total
    FROM events FINAL
    WHERE type = 'job' AND action IN ('succeeded', 'failed', 'retried', 'dead_lettered') AND source != 'customer'
      AND ts > {now:DateTime64(3, 'UTC')} - toIntervalMinute({w:UInt32}) AND ts <= {now:DateTime64(3, 'UTC')}
    GROUP BY pool HAVING total >= {min:UInt32}`,
  probeFailures: `
    SELECT target, countIf(ok = 0) AS failed, argMax(ok, ts) AS last_ok FROM events FINAL
    WHERE type = 'probe' AND source != 'customer' -- a customer's probes are its evidence, not a page
      AND ts > {now:DateTime64(3, 'UTC')} - toIntervalMinute({w:UInt32}) AND ts <= {now:DateTime64(3, 'UTC')}
    GROUP BY target HAVING failed >= {threshold:UInt32} AND last_ok = 0`,
}

export const ruleNames = [
  'success_rate_burn',
  'uptime_burn',
  'dlq_growth',
  'queue_without_workers',
  'worker_error_rate',
  'probe_failures',
  'telemetry_lag',
  'sla_month_held',
  'sla_late_data',
] as const
export type RuleName = (typeof ruleNames)[number]

/** Rules whose incidents customers hear about (telemetry lag and the SLA's held months and late data are the operator's). */
export const customerFacing = new Set<string>(
  ruleNames.filter((r) => r !== 'telemetry_lag' && r !== 'sla_month_held' && r !== 'sla_late_data'),
)

export interface Finding {
  scope: string
  severity: Severity
  summary: string
  details: Record<string, unknown>
}

export interface RuleResult {
  rule: RuleName
  ok: boolean
  error?: string
  findings: Finding[]
  /** An SLO rule: a scope that stopped firing has recovered, and its incident resolves at once. */
  resolvesOnRecovery?: boolean
}

export interface RuleSources {
  pool: Queryable
  clickhouse?: ClickHouseClient
  /** The orchestrator's autoscaling signal per pool (the queue rule). */
  queueStats: () => Promise<QueueStat[]>
  /** The SLA engine's held months (YYYY-MM); absent: the rule is not evaluated. */
  heldMonths?: () => Promise<string[]>
  /** The SLA engine's closed months that late data would change; absent: the rule cannot run. */
  slaLateData?: () => Promise<LateDataFinding[]>
  /** The SLOs of the plans (sla alertTargets); absent: the burn-rate rules cannot run. */
  alertTargets?: (now: Date) => Promise<AlertTargets>
  /** The factory's minutes as the SLA figures judge them; absent: the uptime rule cannot run. */
  factoryMinutes?: (from: Date, to: Date) => Promise<MinuteVerdict[]>
}

type Rules = IncidentsConfig['rules']
const pct = (x: number) => `${(x * 100).toFixed(2)}%`

const burnDetails = (v: BurnVerdict, slo: number) => ({
  slo,
  burnThreshold: v.pair.burn,
  longWindowMinutes: v.pair.longMinutes,
  shortWindowMinutes: v.pair.shortMinutes,
  longBurn: v.longBurn,
  shortBurn: v.shortBurn,
  budgetConsumed: v.budgetConsumed,
  /** 'ticket': recorded, not paged (lifecycle.ts). */
  alert: v.pair.action,
})

function sla<K extends 'alertTargets' | 'factoryMinutes'>(
  src: RuleSources,
  k: K,
): NonNullable<RuleSources[K]> {
  const f = src[k]
  if (!f) throw new Error('the SLA engine is not available in this process')
  return f
}

async function successRate(src: RuleSources, r: Rules['successRate'], now: Date): Promise<Finding[]> {
  const windows = windowsOf(r.pairs)
  const params: Record<string, unknown> = { now: chTime(now.toISOString()), max: windows[0] }
  const cols = windows.map((w, i) => {
    params[`w${i}`] = w
    const inWindow = `ts > {now:DateTime64(3, 'UTC')} - toIntervalMinute({w${i}:UInt32})`
    return `countIf(action = 'failed' AND ${inWindow}) AS b${i}, countIf(${inWindow}) AS t${i}`
  })
  const rows = await chQuery<Record<string, number | string>>(
    src.clickhouse!,
    SQL.successRate(cols.join(', ')),
    params,
  )
  const targets = await sla(src, 'alertTargets')(now)
  const out: Finding[] = []
  for (const row of rows) {
    const counts = new Map<number, WindowCount>(
      windows.map((w, i) => [w, { bad: Number(row[`b${i}`]), total: Number(row[`t${i}`]) }]),
    )
    const customer = String(row.customer_id)
    // Each customer's own promise; runs of no known customer against the configured SLO.
    const slo = targets.customers.get(customer)?.successRate ?? r.slo
    const v = evaluateBurn(counts, r.pairs, slo, r.minRuns)
    if (!v) continue
    const long = counts.get(v.pair.longMinutes)!
    out.push({
      scope: `customer:${customer}`,
      severity: v.pair.severity,
      summary: `Run success rate of ${customer || 'the factory'} is burning its error budget ${v.longBurn.toFixed(1)}x (${long.bad}/${long.total} runs failed over ${v.pair.longMinutes} min; SLO ${pct(slo)})`,
      details: { ...burnDetails(v, slo), failedRuns: long.bad, finishedRuns: long.total },
    })
  }
  return out
}

async function uptime(src: RuleSources, r: Rules['uptime'], now: Date): Promise<Finding[]> {
  const windows = windowsOf(r.pairs)
  // Judge complete minutes only, one minute behind: the relay needs a moment to ship the last one.
  const end = Math.floor(now.getTime() / 60_000) * 60_000 - 60_000
  const start = end - windows[0]! * 60_000
  const [minutes, targets] = await Promise.all([
    sla(src, 'factoryMinutes')(new Date(start), new Date(end)),
    sla(src, 'alertTargets')(now),
  ])
  // The SLI now: the newest judged minute. An incident resolves as soon as it is up again.
  const newest = minutes.findLast((m) => m !== null)
  if (newest !== 'down') return []
  const slo = targets.factoryUptime
  const counts = new Map<number, WindowCount>()
  for (const w of windows) {
    // Minutes not in service, in maintenance or unmeasured (telemetry missing while the witness
    // saw Steward serve) are not judged: only up and down minutes count.
    let bad = 0
    let total = 0
    for (const m of minutes.slice(minutes.length - w)) {
      if (m === null) continue
      total++
      if (m === 'down') bad++
    }
    counts.set(w, { bad, total })
  }
  const v = evaluateBurn(counts, r.pairs, slo, 1)
  if (!v) return []
  const long = counts.get(v.pair.longMinutes)!
  return [
    {
      scope: '',
      severity: v.pair.severity,
      summary: `Factory uptime is burning its error budget ${v.longBurn.toFixed(1)}x (${long.bad} of ${long.total} minutes down over ${v.pair.longMinutes} min; SLO ${pct(slo)}, the strictest plan's)`,
      details: { ...burnDetails(v, slo), downMinutes: long.bad, judgedMinutes: long.total },
    },
  ]
}

async function dlqGrowth(src: RuleSources, r: Rules['dlqGrowth'], now: Date): Promise<Finding[]> {
  const rows = await chQuery<{ customer_id: string; n: number }>(src.clickhouse!, SQL.dlqGrowth, {
    now: chTime(now.toISOString()),
    w: r.windowMinutes,
    threshold: r.threshold,
  })
  const out: Finding[] = []
  for (const row of rows) {
    const dlqSize = await getDlqSize(src.pool, row.customer_id || undefined).catch(() => undefined)
    out.push({
      scope: `customer:${row.customer_id}`,
      severity: r.severity,
      summary: `${row.n} jobs of ${row.customer_id || 'the factory'} went to the dead-letter queue in ${r.windowMinutes} min`,
      details: { deadLettered: Number(row.n), windowMinutes: r.windowMinutes, dlqSize },
    })
  }
  return out
}

async function queueWithoutWorkers(src: RuleSources, r: Rules['queueWithoutWorkers']): Promise<Finding[]> {
  const stats = await src.queueStats()
  return stats
    .filter((s) => s.depth > 0 && s.liveWorkers === 0 && s.oldestReadyAgeSeconds >= r.minOldestAgeSeconds)
    .map((s) => ({
      scope: `pool:${s.pool}`,
      severity: r.severity,
      summary: `Pool ${s.pool} has ${s.depth} ready jobs (oldest ${Math.round(s.oldestReadyAgeSeconds)} s) and no live worker`,
      details: { ...s },
    }))
}

async function workerErrorRate(src: RuleSources, r: Rules['workerErrorRate'], now: Date): Promise<Finding[]> {
  const rows = await chQuery<{ pool: string; bad: number; total: number }>(
    src.clickhouse!,
    SQL.workerErrorRate,
    { now: chTime(now.toISOString()), w: r.windowMinutes, min: r.minAttempts },
  )
  return rows
    .filter((x) => Number(x.bad) / Number(x.total) >= r.threshold)
    .map((x) => ({
      scope: `pool:${x.pool}`,
      severity: r.severity,
      summary: `Workers of pool ${x.pool} failed ${x.bad} of ${x.total} attempts (${pct(Number(x.bad) / Number(x.total))}) in ${r.windowMinutes} min`,
      details: { failedAttempts: Number(x.bad), attempts: Number(x.total), threshold: r.threshold },
    }))
}

async function probeFailures(src: RuleSources, r: Rules['probeFailures'], now: Date): Promise<Finding[]> {
  const rows = await chQuery<{ target: string; failed: number; last_ok: number }>(
    src.clickhouse!,
    SQL.probeFailures,
    { now: chTime(now.toISOString()), w: r.windowMinutes, threshold: r.threshold },
  )
  return rows.map((x) => ({
    scope: `probe:${x.target}`,
    severity: r.severity,
    summary: `Probe ${x.target} failed ${x.failed} times in ${r.windowMinutes} min`,
    details: { failedProbes: Number(x.failed), windowMinutes: r.windowMinutes },
  }))
}

async function telemetryLag(lag: OutboxLag, r: Rules['telemetryLag']): Promise<Finding[]> {
  if (lag.oldestAgeSeconds < r.maxAgeSeconds) return []
  return [
    {
      scope: '',
      severity: r.severity,
      summary: `Telemetry pipeline is ${Math.round(lag.oldestAgeSeconds)} s behind (${lag.backlog} events waiting for ClickHouse)`,
      details: { ...lag, maxAgeSeconds: r.maxAgeSeconds },
    },
  ]
}

async function slaMonthHeld(src: RuleSources, r: Rules['slaMonthHeld']): Promise<Finding[]> {
  if (!src.heldMonths) throw new Error('the SLA engine is not available in this process')
  return (await src.heldMonths()).map((month) => ({
    scope: `sla:${month}`,
    severity: r.severity,
    summary: `SLA month ${month} is held: telemetry is missing for minutes Steward's witness saw served; no credit is issued until an admin releases it (POST /v1/sla/months/${month}/release)`,
    details: { month },
  }))
}

async function slaLateData(src: RuleSources, r: Rules['slaLateData']): Promise<Finding[]> {
  if (!src.slaLateData) throw new Error('the SLA engine is not available in this process')
  return (await src.slaLateData()).map((f) => ({
    scope: `sla:late-data:${f.month}:${f.customerId}`,
    severity: r.severity,
    summary: `Late data would change the closed SLA month ${f.month} of ${f.customerId}: credit ${formatCents(f.issuedCents)} issued, ${formatCents(f.recomputedCents)} on a recompute (${f.changes.map((c) => c.field).join(', ')}); correct it with POST /v1/sla/credits/${f.creditId}/adjustments, or leave it`,
    details: { ...f },
  }))
}

/** Runs every enabled rule; one rule's failure does not stop the others. */
export async function runRules(src: RuleSources, rules: Rules, now: Date): Promise<RuleResult[]> {
  const lag = await outboxLag(src.pool).catch((err: Error) => err)
  const behind = !(lag instanceof Error) && lag.oldestAgeSeconds >= rules.telemetryLag.maxAgeSeconds
  const plan: [RuleName, boolean, boolean, () => Promise<Finding[]>][] = [
    ['success_rate_burn', rules.successRate.enabled, true, () => successRate(src, rules.successRate, now)],
    ['uptime_burn', rules.uptime.enabled, true, () => uptime(src, rules.uptime, now)],
    ['dlq_growth', rules.dlqGrowth.enabled, true, () => dlqGrowth(src, rules.dlqGrowth, now)],
    [
      'queue_without_workers',
      rules.queueWithoutWorkers.enabled,
      false,
      () => queueWithoutWorkers(src, rules.queueWithoutWorkers),
    ],
    [
      'worker_error_rate',
      rules.workerErrorRate.enabled,
      true,
      () => workerErrorRate(src, rules.workerErrorRate, now),
    ],
    ['probe_failures', rules.probeFailures.enabled, true, () => probeFailures(src, rules.probeFailures, now)],
    [
      'telemetry_lag',
      rules.telemetryLag.enabled,
      false,
      async () => {
        if (lag instanceof Error) throw lag
        return telemetryLag(lag, rules.telemetryLag)
      },
    ],
    ['sla_month_held', rules.slaMonthHeld.enabled, false, () => slaMonthHeld(src, rules.slaMonthHeld)],
    ['sla_late_data', rules.slaLateData.enabled, false, () => slaLateData(src, rules.slaLateData)],
  ]
  const out: RuleResult[] = []
  for (const [rule, enabled, needsClickHouse, run] of plan) {
    if (!enabled) continue
    if (needsClickHouse && !src.clickhouse) {
      out.push({ rule, ok: false, error: 'ClickHouse is not available in this process', findings: [] })
      continue
    }
    // Telemetry still on its way says nothing about customers: not judged (and nothing resolves).
    if (behind && needsClickHouse && customerFacing.has(rule)) {
      const seconds = Math.round((lag as OutboxLag).oldestAgeSeconds)
      out.push({
        rule,
        ok: false,
        error: `telemetry is ${seconds} s behind: not judged until the pipeline catches up (telemetry_lag)`,
        findings: [],
      })
      continue
    }
    const resolvesOnRecovery = rule === 'success_rate_burn' || rule === 'uptime_burn'
    try {
      out.push({
        rule,
        ok: true,
        findings: await run(),
        ...(resolvesOnRecovery ? { resolvesOnRecovery } : {}),
      })
    } catch (err) {
      out.push({ rule, ok: false, error: (err as Error).message, findings: [] })
    }
  }
  return out
}
