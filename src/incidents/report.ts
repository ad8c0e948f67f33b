// The post-incident report: timeline, durations (detection, acknowledgement, recovery = the RTO
// the recovery event carries), the recovery estimates against the actual recovery, affected
// customers and runs, SLA error budget consumed, and the root cause and prevention operators
// wrote. Rendered as JSON or Markdown.
import type { ClickHouseClient } from '../db/clickhouse.ts'
import { chQuery } from '../db/clickhouse.ts'
import { chTime } from '../ingest/index.ts'
import type { IncidentsConfig } from './config.ts'
import type { Incident, TimelineEntry } from './store.ts'

export interface CustomerImpact {
  customerId: string
  failedRuns: number
  finishedRuns: number
  /** Failed runs in the incident / the error budget of the trailing 30 days (finished runs × (1 − SLO)). */
  successBudgetConsumed: number | null
}

/** The estimates given (on the timeline) against the actual recovery. */
export interface EstimateComparison {
  recoveryKind: string | null
  /** The RTO target the first estimate came from (seconds), when it came from one. */
  targetSeconds: number | null
  estimates: { at: string; estimatedRecoveryAt: string; source: string }[]
  firstEstimateAt: string | null
  /** The estimate in force at resolution (or now, while open). */
  finalEstimateAt: string | null
  /** Opening → the final estimate. */
  estimatedSeconds: number | null
  /** Opening → resolution (null while open). */
  actualSeconds: number | null
  /** Actual − estimated: positive when recovery came later than estimated. */
  differenceSeconds: number | null
  withinEstimate: boolean | null
}

export interface IncidentReport {
  incident: Incident
  timeline: TimelineEntry[]
  durationSeconds: number
  /** First failed run of an affected customer in the hour before opening (success-rate incidents). */
  firstFailureAt: string | null
  /** From the first failure (else the first firing evaluation) to opening. */
  detectionSeconds: number
  timeToAcknowledgeSeconds: number | null
  recoverySeconds: number | null
  recoveryEstimate: EstimateComparison
  impactWindow: { from: string; to: string }
  affectedCustomers: CustomerImpact[]
  affectedRuns: number
  /** Minutes the factory was down in the impact window / the 30-day downtime allowance. */
  uptimeBudgetConsumed: number | null
  downMinutes: number | null
  rootCause: string | null
  prevention: string | null
  /** Set when ClickHouse could not be read: impact figures are missing, not zero. */
  telemetryError?: string
}

const seconds = (a: string, b: string | Date) =>
  Math.max(0, (new Date(b).getTime() - new Date(a).getTime()) / 1000)
const MONTH_MINUTES = 30 * 24 * 60

export async function buildReport(
  incident: Incident,
  timeline: TimelineEntry[],
  clickhouse: ClickHouseClient | undefined,
  rules: IncidentsConfig['rules'],
  now = new Date(),
): Promise<IncidentReport> {
  const end = incident.resolvedAt ? new Date(incident.resolvedAt) : now
  const opened = new Date(incident.openedAt)
  // Failures the rule saw started up to a short window before it fired.
  const from = new Date(new Date(incident.conditionSince).getTime() - 5 * 60_000)
  let impact: CustomerImpact[] = incident.customerIds.map((customerId) => ({
    customerId,
    failedRuns: 0,
    finishedRuns: 0,
    successBudgetConsumed: null,
  }))
  let downMinutes: number | null = null
  let firstFailureAt: string | null = null
  let telemetryError: string | undefined
  // The report stays available without ClickHouse: the PostgreSQL record, and a note on what is missing.
  try {
    if (clickhouse && incident.customerIds.length) {
      const runs = await runImpact(clickhouse, incident.customerIds, from, opened, end, rules.successRate.slo)
      impact = runs.impact
      if (incident.rule === 'success_rate_burn') firstFailureAt = runs.firstFailureAt
    }
    if (clickhouse) downMinutes = await factoryDownMinutes(clickhouse, from, end)
  } catch (err) {
    telemetryError = `telemetry unavailable: ${(err as Error).message}`
  }
  const allowance = MONTH_MINUTES * (1 - rules.uptime.slo)
  return {
    incident,
    timeline,
    durationSeconds: seconds(incident.openedAt, end),
    detectionSeconds: seconds(firstFailureAt ?? incident.conditionSince, incident.openedAt),
    firstFailureAt,
    timeToAcknowledgeSeconds: incident.acknowledgedAt
      ? seconds(incident.openedAt, incident.acknowledgedAt)
      : null,
    recoverySeconds: incident.resolvedAt ? seconds(incident.openedAt, incident.resolvedAt) : null,
    recoveryEstimate: compareEstimates(incident, timeline),
    impactWindow: { from: from.toISOString(), to: end.toISOString() },
    affectedCustomers: impact,
    affectedRuns: impact.reduce((n, c) => n + c.failedRuns, 0),
    uptimeBudgetConsumed: downMinutes === null ? null : downMinutes / allowance,
    downMinutes,
    rootCause: incident.rootCause,
    prevention: incident.prevention,
    ...(telemetryError ? { telemetryError } : {}),
  }
}

export function compareEstimates(incident: Incident, timeline: TimelineEntry[]): EstimateComparison {
  const estimates = timeline
    .filter((t) => t.kind === 'estimate' && typeof t.detail.estimatedRecoveryAt === 'string')
    .map((t) => ({
      at: t.at,
      estimatedRecoveryAt: t.detail.estimatedRecoveryAt as string,
      source: String(t.detail.source ?? 'rto_target'),
      targetSeconds: typeof t.detail.targetSeconds === 'number' ? t.detail.targetSeconds : null,
    }))
  const first = estimates[0]
  const final = incident.estimatedRecoveryAt ?? estimates.at(-1)?.estimatedRecoveryAt ?? null
  const estimatedSeconds = final ? seconds(incident.openedAt, final) : null
  const actualSeconds = incident.resolvedAt ? seconds(incident.openedAt, incident.resolvedAt) : null
  const difference =
    estimatedSeconds !== null && actualSeconds !== null ? actualSeconds - estimatedSeconds : null
  return {
    recoveryKind: incident.recoveryKind,
    targetSeconds: first?.source === 'rto_target' ? first.targetSeconds : null,
    estimates: estimates.map(({ targetSeconds: _t, ...e }) => e),
    firstEstimateAt: first?.estimatedRecoveryAt ?? null,
    finalEstimateAt: final,
    estimatedSeconds,
    actualSeconds,
    differenceSeconds: difference,
    withinEstimate: difference === null ? null : difference <= 0,
  }
}

/** Per customer: failed and finished runs in the impact window, and the share of the 30-day budget. */
async function runImpact(
  clickhouse: ClickHouseClient,
  customers: string[],
  from: Date,
  opened: Date,
  end: Date,
  slo: number,
): Promise<{ impact: CustomerImpact[]; firstFailureAt: string | null }> {
  const rows = await chQuery<{
    customer_id: string
    failed: number
    finished: number
    month: number
    first_failed: string
  }>(
    clickhouse,
    `SELECT customer_id,
            countIf(action = 'failed' AND ts >= {from:DateTime64(3, 'UTC')}) AS failed,
            countIf(ts >= {from:DateTime64(3, 'UTC')}) AS finished,
            count() AS month,
            toString(minIf(ts, action = 'failed' AND ts > {opened:DateTime64(3, 'UTC')} - INTERVAL 1 HOUR
                                AND ts <= {opened:DateTime64(3, 'UTC')})) AS first_failed
     FROM events FINAL
     WHERE type = 'run' AND action IN ('succeeded', 'failed') AND customer_id IN {customers:Array(String)}
       AND ts > {to:DateTime64(3, 'UTC')} - INTERVAL 30 DAY AND ts <= {to:DateTime64(3, 'UTC')}
     GROUP BY customer_id`,
    {
      from: chTime(from.toISOString()),
      opened: chTime(opened.toISOString()),
      to: chTime(end.toISOString()),
      customers,
    },
  )
  const byId = new Map(rows.map((r) => [r.customer_id, r]))
  const firsts = rows
    .map((r) => r.first_failed)
    .filter((t) => t && !t.startsWith('1970'))
    .map((t) => new Date(`${t.replace(' ', 'T')}Z`).getTime())
  return {
    impact: customers.map((customerId) => {
      const r = byId.get(customerId)
      const budget = r ? Number(r.month) * (1 - slo) : 0
      return {
        customerId,
        failedRuns: Number(r?.failed ?? 0),
        finishedRuns: Number(r?.finished ?? 0),
        successBudgetConsumed: budget > 0 ? Number(r?.failed ?? 0) / budget : null,
      }
    }),
    firstFailureAt: firsts.length ? new Date(Math.min(...firsts)).toISOString() : null,
  }
}

/** Minutes of the window the factory was down (no healthy heartbeat or probe); null without any signal. */
async function factoryDownMinutes(
  clickhouse: ClickHouseClient,
  from: Date,
  end: Date,
): Promise<number | null> {
  const [row] = await chQuery<{ judged: number; up: number }>(
    clickhouse,
    `SELECT count() AS judged, countIf(h > 0) AS up FROM (
       SELECT minute, sum(healthy) AS h FROM signals_1m
       WHERE customer_id = '' AND ((source = 'heartbeat' AND component = 'control_plane') OR source = 'probe')
         AND minute >= toStartOfMinute({from:DateTime64(3, 'UTC')}) AND minute < {to:DateTime64(3, 'UTC')}
       GROUP BY minute)`,
    { from: chTime(from.toISOString()), to: chTime(end.toISOString()) },
  )
  // Minutes without any signal inside the window count as down, as the uptime SLO does.
  const windowMinutes = Math.ceil((end.getTime() - from.getTime()) / 60_000)
  return Number(row?.judged ?? 0) > 0 ? Math.max(0, windowMinutes - Number(row?.up ?? 0)) : null
}

const dur = (s: number | null) =>
  s === null
    ? '—'
    : s < 120
      ? `${Math.round(s)} s`
      : s < 7200
        ? `${(s / 60).toFixed(1)} min`
        : `${(s / 3600).toFixed(1)} h`
const share = (x: number | null) => (x === null ? '—' : `${(x * 100).toFixed(2)}%`)
const esc = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ')

function estimateLines(e: EstimateComparison): string[] {
  if (!e.finalEstimateAt) return ['_no estimate was given_']
  const first = e.estimates[0]
  const lines = [
    `- First estimate: ${e.firstEstimateAt ?? '—'}${first?.source === 'rto_target' ? ` (RTO target of \`${e.recoveryKind}\`: ${dur(e.targetSeconds)})` : first ? ' (operator)' : ''}`,
    `- Final estimate: ${e.finalEstimateAt} (${dur(e.estimatedSeconds)} after opening; ${Math.max(0, e.estimates.length - 1)} revision(s))`,
  ]
  if (e.actualSeconds === null || e.differenceSeconds === null) lines.push('- Not recovered yet.')
  else
    lines.push(
      `- Actual recovery: ${dur(e.actualSeconds)} after opening — ${dur(Math.abs(e.differenceSeconds))} ${e.differenceSeconds > 0 ? 'later than estimated (estimate missed)' : 'earlier than estimated (within the estimate)'}`,
    )
  return lines
}

export function renderMarkdown(r: IncidentReport): string {
  const i = r.incident
  const lines = [
    `# Incident ${i.id}: ${esc(i.summary)}`,
    '',
    `- Rule: \`${i.rule}\`, scope: \`${i.scope || 'factory'}\`, severity: **${i.severity}**, status: **${i.status}**`,
    `- Opened: ${i.openedAt}; acknowledged: ${i.acknowledgedAt ?? '—'}; resolved: ${i.resolvedAt ?? '—'}${i.resolvedBy ? ` (by ${i.resolvedBy})` : ''}`,
    `- Duration: ${dur(r.durationSeconds)}; detection: ${dur(r.detectionSeconds)}; time to acknowledge: ${dur(r.timeToAcknowledgeSeconds)}; recovery (RTO): ${dur(r.recoverySeconds)}`,
    `- Impact window: ${r.impactWindow.from} → ${r.impactWindow.to}; factory down minutes: ${r.downMinutes ?? '—'} (uptime budget consumed ${share(r.uptimeBudgetConsumed)})`,
    i.silenced ? '- Paging was suppressed by a silence / maintenance window.' : '',
    r.telemetryError ? `- Impact figures missing (${esc(r.telemetryError)}).` : '',
    '',
    '## Recovery estimate',
    '',
    ...estimateLines(r.recoveryEstimate),
    '',
    '## Affected customers',
    '',
    '| customer | failed runs | finished runs | success-rate budget consumed |',
    '| --- | ---: | ---: | ---: |',
    ...r.affectedCustomers.map(
      (c) =>
        `| ${esc(c.customerId)} | ${c.failedRuns} | ${c.finishedRuns} | ${share(c.successBudgetConsumed)} |`,
    ),
    '',
    `Affected runs (failed in the impact window): ${r.affectedRuns}`,
    '',
    '## Root cause',
    '',
    r.rootCause ?? '_not filled in yet_',
    '',
    '## Prevention',
    '',
    r.prevention ?? '_not filled in yet_',
    '',
    '## Timeline',
    '',
    '| at | kind | what |',
    '| --- | --- | --- |',
    ...r.timeline.map((t) => `| ${t.at} | ${t.kind} | ${esc(t.message)} |`),
    '',
  ]
  return lines.filter((l, n) => l !== '' || lines[n - 1] !== '').join('\n')
}
