// The post-incident report: timeline, durations (detection, acknowledgement, recovery = the RTO
// the recovery event carries), the recovery estimates against the actual recovery, affected
// customers and runs, SLA error budget consumed, and the root cause and prevention operators
// wrote. Rendered as JSON or Markdown.
import type { ClickHouseClient } from '../db/clickhouse.ts'
import type { IncidentsConfig } from './config.ts'
import type {
  CustomerImpact,
  EstimateComparison,
  Incident,
  IncidentReport,
  TimelineEntry,
} from './schemas.ts'
import { factoryDownMinutes, runImpact } from './telemetry.ts'

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
      source: t.detail.source === 'operator' ? ('operator' as const) : ('rto_target' as const),
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
    'silenced' in i && i.silenced ? '- Paging was suppressed by a silence / maintenance window.' : '',
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
