// The dashboard's sections, each rendered on the server from the customer's PortalView: the full
// page embeds them, and the refresh endpoint sends them again so the page can swap in what changed.
// Tables have captions and header cells; every state is written in words beside its colour.
import { html } from 'hono/html'
import type { CustomerRun } from '../orchestrator/index.ts'
import type { CreditSoFar } from '../sla/index.ts'
import { againstEstimate, duration, untilEstimate, utc } from '../status/index.ts'
import { burndownSvg, minutes } from './burndown.ts'
import type { CreditMonth, LiveComponent, PortalIncident, PortalView, SlaView } from './dashboard.ts'

const STATE_LABELS = { operational: 'Operational', degraded: 'Degraded', outage: 'Outage' } as const
const SUMMARY = {
  operational: 'Everything you use is operational',
  degraded: 'Something you use is degraded',
  outage: 'Something you use is unavailable',
} as const
const INCIDENT_STATUS = {
  triggered: 'Investigating',
  acknowledged: 'Acknowledged: engineers are working on it',
  resolved: 'Resolved',
} as const
const RUN_STATUS: Record<string, string> = {
  queued: 'Queued',
  running: 'Running',
  succeeded: 'Succeeded',
  failed: 'Failed',
  cancelled: 'Cancelled',
}

export const money = (cents: number, currency: string) => `${(cents / 100).toFixed(2)} ${currency}`
const pct = (p: number | null) => (p === null ? '—' : `${p}%`)
const metText = (met: boolean | null) =>
  met === null
    ? html`<span>no target</span>`
    : met
      ? html`<span class="met">met</span>`
      : html`<span class="missed">missed</span>`
const unavailable = (text: string) => html`<p class="none">${text}.</p>`

function component(c: LiveComponent) {
  return html`<li class="${c.parent ? 'child' : ''}" data-component="${c.id}"><div><span class="name">${c.name}</span><span class="detail">${c.detail}</span>${c.yours ? html`<span class="detail">${c.yours}</span>` : ''}</div><span class="state ${c.state}">${STATE_LABELS[c.state]}</span></li>`
}

export function liveSection(v: PortalView['live']) {
  if (!v.ok) return unavailable(v.unavailable)
  return html`<p class="banner ${v.value.state}" data-field="live-summary">${SUMMARY[v.value.state]}</p>
<ul class="components">${v.value.components.map(component)}</ul>`
}

function creditText(c: CreditSoFar) {
  const amount = `${c.creditPercent}% of ${money(c.feeCents, c.currency)} = ${money(c.creditCents, c.currency)}`
  switch (c.state) {
    case 'closed':
      return html`<strong>Closed</strong>: ${amount}${c.closedAt ? html`, issued <time datetime="${c.closedAt}">${utc(c.closedAt)}</time>` : ''}.`
    case 'insufficient_data':
      return html`<strong>Insufficient data</strong>: no minute of this month has been measured for you yet.`
    default:
      return c.creditPercent > 0
        ? html`<strong>Provisional</strong>: ${amount} if the month ended now (${c.tiers.map((t) => `${t.metric.replace('_', ' ')} ${t.detail}`).join('; ')}).`
        : html`<strong>Provisional</strong>: no credit so far; every target is met.`
  }
}

function executionTable(rows: SlaView['executionTime']) {
  if (!rows.length) return html`<p class="none">No succeeded runs this month yet.</p>`
  return html`<table><caption>Execution time by run type (succeeded runs)</caption>
<thead><tr><th scope="col">Run type</th><th scope="col" class="num">Runs</th><th scope="col">Target</th><th scope="col" class="num">Within target</th><th scope="col" class="num">p95</th><th scope="col">Status</th></tr></thead>
<tbody>${rows.map(
    (e) =>
      html`<tr data-run-type="${e.runType}"><th scope="row">${e.runType}</th><td class="num">${e.runs}</td><td>${e.targetMs === null ? 'none' : `${e.withinPercentTarget}% within ${e.targetMs} ms`}</td><td class="num" data-field="compliance">${pct(e.compliancePercent)}</td><td class="num">${e.p95Ms} ms</td><td>${metText(e.met)}</td></tr>`,
  )}</tbody></table>`
}

export function slaSection(v: PortalView['sla']) {
  if (!v.ok) return unavailable(v.unavailable)
  const s = v.value
  const u = s.budget.uptime
  const r = s.budget.successRate
  return html`<p class="meta">${s.period === 'month-to-date' ? 'Month to date' : 'Whole month'} ${s.month}, as the SLA engine computed it <time datetime="${s.computedAt}">${utc(s.computedAt)}</time>.</p>
<div class="cards">
<div class="card" data-figure="uptime"><p class="label">Uptime</p><p class="figure" data-field="uptime">${s.uptime.percent}%</p><p class="sub">target ${s.uptime.target}% · ${metText(s.uptime.met)} · ${s.uptime.downMinutes} of ${s.uptime.eligibleMinutes} min down</p></div>
<div class="card" data-figure="success-rate"><p class="label">Run success rate</p><p class="figure" data-field="success-rate">${s.successRate.percent === null ? 'no runs yet' : `${s.successRate.percent}%`}</p><p class="sub">target ${s.successRate.target}% · ${metText(s.successRate.met)} · ${s.successRate.succeeded} of ${s.successRate.finished} finished runs succeeded</p></div>
<div class="card" data-figure="budget"><p class="label">Uptime error budget left</p><p class="figure" data-field="budget">${Math.max(0, u.remainingPercent)}%</p><p class="sub">${minutes(Math.max(0, u.remainingMinutes))} of ${minutes(u.budgetMinutes)} this month${u.remainingMinutes < 0 ? html` · <span class="missed">overspent by ${minutes(-u.remainingMinutes)}</span>` : ''}</p></div>
<div class="card" data-figure="dlq"><p class="label">Jobs in the dead-letter queue</p><p class="figure" data-field="dlq">${s.dlqSize}</p><p class="sub">retry them with <code>POST /v1/dlq/{jobId}/retry</code></p></div>
</div>
${executionTable(s.executionTime)}
<h3 id="budget-h">Error budget burn-down</h3>
<figure aria-labelledby="budget-h">
${burndownSvg(u, s.month)}
<figcaption><ul class="legend"><li><span class="key"></span>Budget left at the end of each day</li><li><span class="key ideal"></span>Ideal: spent evenly until the month ends</li></ul></figcaption>
</figure>
<p>Runs may fail: ${r.failedRuns} of ${r.finishedRuns} finished runs failed; the ${r.target}% target allows ${r.allowedFailures} so far (${r.remainingFailures >= 0 ? `${r.remainingFailures} left` : html`<span class="missed">${-r.remainingFailures} over</span>`}).</p>
<details><summary>Burn-down by day (table)</summary>
<table><caption>Uptime error budget by day, ${s.month}</caption>
<thead><tr><th scope="col">Day</th><th scope="col" class="num">Down</th><th scope="col" class="num">Budget left</th><th scope="col" class="num">Ideal</th></tr></thead>
<tbody>${u.days.map((d) => html`<tr><th scope="row">${d.day}</th><td class="num">${minutes(d.downMinutes)}</td><td class="num">${minutes(d.remainingMinutes)}</td><td class="num">${minutes(d.idealMinutes)}</td></tr>`)}</tbody></table>
</details>
<h3>Credit so far</h3>
<p data-credit-state="${s.credit.state}" data-field="credit">${creditText(s.credit)}</p>`
}

function incidentArticle(i: PortalIncident, now: string) {
  const open = i.status !== 'resolved'
  const took = i.resolvedAt ? (Date.parse(i.resolvedAt) - Date.parse(i.openedAt)) / 1000 : 0
  const estimated = (Date.parse(i.estimatedRecoveryAt) - Date.parse(i.openedAt)) / 1000
  return html`<article class="${open ? 'open' : 'resolved'}" data-incident="${i.id}">
<h3>${i.title}</h3>
<p class="meta"><strong>${INCIDENT_STATUS[i.status]}</strong> · started <time datetime="${i.openedAt}">${utc(i.openedAt)}</time> · severity ${i.severity}</p>
${
  open
    ? html`<p class="estimate">Estimated recovery: <time datetime="${i.estimatedRecoveryAt}">${utc(i.estimatedRecoveryAt)}</time> (${untilEstimate(i.estimatedRecoveryAt, now)}; ${i.estimateSource === 'operator' ? 'our engineers’ estimate' : 'our recovery-time objective for this kind of failure'})</p>`
    : html`<p class="meta">Resolved <time datetime="${i.resolvedAt ?? ''}">${utc(i.resolvedAt ?? i.openedAt)}</time> after ${duration(took)}: recovered ${againstEstimate(took - estimated)}.</p>`
}
<p>${i.detail}</p>
${
  i.timeline.length
    ? html`<ol class="timeline" aria-label="Updates">${i.timeline.map((t) => html`<li><time datetime="${t.at}">${utc(t.at)}</time> — ${t.message}</li>`)}</ol>`
    : ''
}
${open ? '' : html`<p><strong>Root cause:</strong> ${i.rootCause ?? 'under review'}. <strong>Prevention:</strong> ${i.prevention ?? 'under review'}.</p>`}
</article>`
}

export function incidentsSection(v: PortalView['incidents'], now: string, days: number) {
  if (!v.ok) return unavailable(v.unavailable)
  if (!v.value.length) return html`<p class="none">No incident has affected you in the last ${days} days.</p>`
  return v.value.map((i) => incidentArticle(i, now))
}

function runRow(r: CustomerRun, csrf: string) {
  return html`<tr data-run="${r.id}" id="run-${r.id}"><td><code>${r.id}</code><br><span class="meta">${r.type} · project ${r.projectId}</span></td><td data-field="run-status">${RUN_STATUS[r.status] ?? r.status}${r.errorClass ? ` (${r.errorClass})` : ''}</td><td><time datetime="${r.createdAt}">${utc(r.createdAt)}</time></td><td>${r.finishedAt ? html`<time datetime="${r.finishedAt}">${utc(r.finishedAt)}</time>` : '—'}</td><td>${
    r.failedSteps.length
      ? r.failedSteps.map(
          (f) =>
            html`<p class="failure">Step <strong>${f.key}</strong> (${f.kind}) ${f.status === 'dead' ? 'dead-lettered' : 'failed'} after ${f.attempts} attempt${f.attempts === 1 ? '' : 's'}${f.errorClass ? `, ${f.errorClass}` : ''}${f.error ? html`: <code>${f.error.slice(0, 300)}</code>` : ''}</p>`,
        )
      : '—'
  }</td><td>${
    r.status === 'failed'
      ? html`<form class="inline" method="post" action="/portal/runs/${r.id}/resume"><input type="hidden" name="csrf" value="${csrf}"><button type="submit">Resume<span class="vh"> run ${r.id}</span></button></form>`
      : ''
  }</td></tr>`
}

export function runsSection(v: PortalView['runs'], csrf: string) {
  if (!v.ok) return unavailable(v.unavailable)
  if (!v.value.length) return html`<p class="none">You have no runs yet.</p>`
  const failed = v.value.filter((r) => r.status === 'failed').length
  return html`<table><caption>Your ${v.value.length} most recent runs, newest first (${failed} failed). Resuming a failed run runs only the steps that did not succeed.</caption>
<thead><tr><th scope="col">Run</th><th scope="col">Status</th><th scope="col">Created</th><th scope="col">Finished</th><th scope="col">Failures</th><th scope="col">Action</th></tr></thead>
<tbody>${v.value.map((r) => runRow(r, csrf))}</tbody></table>`
}

function adjustments(c: CreditMonth) {
  if (!c.adjustments.length) return 'none'
  return c.adjustments.map(
    (a) => html`${a.amount} ${a.currency} on the ${a.billingCycle} bill (${a.description})`,
  )
}

export function creditsSection(v: PortalView['credits'], currentMonth: string) {
  const current = html`<p>This month so far: <a href="/portal/credits/${currentMonth}.html">report (HTML)</a> · <a href="/portal/credits/${currentMonth}.csv">CSV</a> (provisional until the month is closed).</p>`
  if (!v.ok) return html`${current}${unavailable(v.unavailable)}`
  if (!v.value.length) return html`${current}<p class="none">No month has been closed for you yet.</p>`
  return html`${current}<table><caption>Closed months, newest first, with each month's report and the adjustments to your bills</caption>
<thead><tr><th scope="col">Month</th><th scope="col" class="num">Credit</th><th scope="col" class="num">Amount</th><th scope="col">Adjustments</th><th scope="col">Report</th></tr></thead>
<tbody>${v.value.map(
    (c) =>
      html`<tr data-credit-month="${c.month}"><th scope="row">${c.month}</th><td class="num">${c.creditPercent}%</td><td class="num">${money(c.creditCents, c.currency)}</td><td>${adjustments(c)}</td><td><a href="/portal/credits/${c.month}.html">HTML<span class="vh"> report for ${c.month}</span></a> · <a href="/portal/credits/${c.month}.csv">CSV<span class="vh"> for ${c.month}</span></a></td></tr>`,
  )}</tbody></table>`
}
