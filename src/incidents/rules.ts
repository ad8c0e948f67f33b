// Detection rules: each reads its signal (ClickHouse telemetry, PostgreSQL queue state, the
// telemetry outbox) as of `now` and says which scopes fire. A rule whose source fails reports
// `ok: false`, and its open incidents are left as they are: missing data never resolves an incident.
import type { ClickHouseClient } from '../db/clickhouse.ts'
import { chQuery } from '../db/clickhouse.ts'
import type { Queryable } from '../db/postgres.ts'
import { chTime, outboxLag } from '../ingest/index.ts'
import { getDlqSize, type QueueStat } from '../orchestrator/index.ts'
import { formatCents, type LateDataFinding } from '../sla/index.ts'
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
  uptime: `
    SELECT toUnixTimestamp(minute) AS m, sum(healthy) AS h FROM signals_1m
    WHERE customer_id = '' AND ((source = 'heartbeat' AND component = 'control_plane') OR source = 'probe')
      AND minute >= toDateTime({start:UInt32}, 'UTC') AND minute < toDateTime({end:UInt32}, 'UTC')
    GROUP BY minute`,
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
})

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
  const out: Finding[] = []
  for (const row of rows) {
    const counts = new Map<number, WindowCount>(
      windows.map((w, i) => [w, { bad: Number(row[`b${i}`]), total: Number(row[`t${i}`]) }]),
    )
    const v = evaluateBurn(counts, r.pairs, r.slo, r.minRuns)
    if (!v) continue
    const customer = String(row.customer_id)
    const long = counts.get(v.pair.longMinutes)!
    out.push({
      scope: `customer:${customer}`,
      severity: v.pair.severity,
      summary: `Run success rate of ${customer || 'the factory'} is burning its error budget ${v.longBurn.toFixed(1)}x (${long.bad}/${long.total} runs failed over ${v.pair.longMinutes} min; SLO ${pct(r.slo)})`,
      details: { ...burnDetails(v, r.slo), failedRuns: long.bad, finishedRuns: long.total },
    })
  }
  return out
}

async function uptime(src: RuleSources, r: Rules['uptime'], now: Date): Promise<Finding[]> {
  const windows = windowsOf(r.pairs)
  // Judge complete minutes only, one minute behind: the relay needs a moment to ship the last one.
  const end = Math.floor(now.getTime() / 60_000) * 60_000 - 60_000
  const start = end - windows[0]! * 60_000
  const rows = await chQuery<{ m: number; h: number }>(src.clickhouse!, SQL.uptime, {
    start: start / 1000,
    end: end / 1000,
  })
  if (rows.length === 0) return [] // no signal at all in the window: nothing to judge yet
  const healthy = new Set(rows.filter((x) => Number(x.h) > 0).map((x) => Number(x.m) * 1000))
  const first = Math.min(...rows.map((x) => Number(x.m) * 1000))
  const counts = new Map<number, WindowCount>()
  for (const w of windows) {
    // Minutes before the first signal ever seen are not judged; after it, a silent minute is down.
    const from = Math.max(end - w * 60_000, first)
    let bad = 0
    let total = 0
    for (let m = from; m < end; m += 60_000) {
      total++
      if (!healthy.has(m)) bad++
    }
    counts.set(w, { bad, total })
  }
  const v = evaluateBurn(counts, r.pairs, r.slo, 1)
  if (!v) return []
  const long = counts.get(v.pair.longMinutes)!
  return [
    {
      scope: '',
      severity: v.pair.severity,
      summary: `Factory uptime is burning its error budget ${v.longBurn.toFixed(1)}x (${long.bad} of ${long.total} minutes down over ${v.pair.longMinutes} min; SLO ${pct(r.slo)})`,
      details: { ...burnDetails(v, r.slo), downMinutes: long.bad, judgedMinutes: long.total },
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

async function telemetryLag(src: RuleSources, r: Rules['telemetryLag']): Promise<Finding[]> {
  const lag = await outboxLag(src.pool)
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
    ['telemetry_lag', rules.telemetryLag.enabled, false, () => telemetryLag(src, rules.telemetryLag)],
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
    try {
      out.push({ rule, ok: true, findings: await run() })
    } catch (err) {
      out.push({ rule, ok: false, error: (err as Error).message, findings: [] })
    }
  }
  return out
}
