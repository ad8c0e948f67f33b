// What a customer notice says by e-mail: a subject, a plain-text body and an HTML body, written per
// notice kind from the notice's payload (docs/customers.md, "E-mail" has an example of each).
//
// Guarantees: the text and the HTML say the same thing (both are written from one letter); every
// value in the HTML is escaped, and the HTML loads nothing (inline styles, no images, no scripts,
// links only to this Steward's API and status page); the subject is one line (whitespace collapsed,
// at most 200 characters), whatever the operator's or the rule's text holds.
import { BudgetNotice } from '../budgets/index.ts'
import { SlaNotice } from '../sla/index.ts'
import { IncidentNotice } from './schemas.ts'

export interface NoticeForEmail {
  id: number
  kind: string
  payload: Record<string, unknown>
}

export interface EmailContent {
  subject: string
  text: string
  html: string
}

interface Letter {
  subject: string
  heading: string
  lead: string
  facts: [string, string][]
  /** A free text (an operator's update) shown as written. */
  message?: { label: string; text: string }
  links: { label: string; href: string }[]
}

export interface LetterContext {
  /** The customer's name (the addressee's organisation). */
  customerName: string
  /** Where this Steward's API answers (absolute links). */
  apiBase: string
}

const utc = (iso: string) => `${iso.slice(0, 16).replace('T', ' ')} UTC`

/** "1 h 5 min", "3 min", "40 s". */
function duration(seconds: number): string {
  const s = Math.round(Math.abs(seconds))
  if (s < 60) return `${s} s`
  const h = Math.floor(s / 3600)
  const m = Math.round((s % 3600) / 60)
  return h ? `${h} h${m ? ` ${m} min` : ''}` : `${m} min`
}

const ESTIMATE_SOURCES = {
  operator: "our engineers' estimate",
  rto_target: 'our recovery-time objective for this kind of failure',
} as const

function incidentLetter(kind: string, n: IncidentNotice, ctx: LetterContext): Letter {
  const estimate = `${utc(n.estimatedRecoveryAt)} (${ESTIMATE_SOURCES[n.estimateSource]})`
  const links = [
    { label: 'The incident (API, with your token)', href: n.links.incident ?? '' },
    { label: 'Status page', href: `${ctx.apiBase}/status` },
  ].filter((l) => l.href)
  const facts: [string, string][] = [
    ['Incident', n.summary],
    ['Severity', n.severity],
    ['Started', utc(n.openedAt)],
  ]
  if (kind === 'incident.resolved') {
    const resolvedAt = n.resolvedAt ?? n.at
    const took = (Date.parse(resolvedAt) - Date.parse(n.openedAt)) / 1000
    const late = (Date.parse(resolvedAt) - Date.parse(n.estimatedRecoveryAt)) / 1000
    facts.push(
      ['Resolved', `${utc(resolvedAt)}, after ${duration(took)}`],
      [
        'Estimated recovery',
        `${estimate}: ${Math.abs(late) < 60 ? 'on time' : `${duration(late)} ${late > 0 ? 'later' : 'earlier'} than estimated`}`,
      ],
    )
    if (n.links.report) links.splice(1, 0, { label: 'Post-incident report', href: n.links.report })
    return {
      subject: `Resolved: ${n.summary}`,
      heading: 'Incident resolved',
      lead: `The incident affecting ${ctx.customerName} is resolved.`,
      facts,
      message: n.message ? { label: 'Resolution', text: n.message } : undefined,
      links,
    }
  }
  facts.push(['Estimated recovery', estimate])
  if (kind === 'incident.update') {
    return {
      subject: `Update: ${n.summary}`,
      heading: 'Incident update',
      lead: `There is news about the incident affecting ${ctx.customerName}.`,
      facts,
      message: { label: `Latest update (${utc(n.at)})`, text: n.message },
      links,
    }
  }
  return {
    subject: `Investigating: ${n.summary}`,
    heading: 'We are investigating an incident',
    lead: `An incident affects the runs of ${ctx.customerName}. We are on it and will write again when there is news.`,
    facts,
    message: n.message ? { label: 'What we know', text: n.message } : undefined,
    links,
  }
}

const pct = (v: number | null) => (v === null ? 'no runs finished' : `${v} %`)

function slaLetter(kind: string, n: SlaNotice, ctx: LetterContext): Letter {
  const report = {
    label: `SLA report for ${n.month} (API, with your token)`,
    href: `${ctx.apiBase}${n.report}`,
  }
  const facts: [string, string][] = [
    ['Month', n.month],
    ['Uptime', `${n.uptimePercent} % (target ${n.uptimeTarget} %)`],
    ['Run success rate', `${pct(n.successRate)} (target ${n.successRateTarget} %)`],
  ]
  if (kind === 'sla.credit_issued') {
    facts.push(
      ['Credit', `${n.creditAmount} ${n.currency} (${n.creditPercent} % of the monthly fee)`],
      ['Applied to', `the ${n.billingCycle} bill`],
      ...n.tiers.map((t): [string, string] => [
        'Reason',
        `${t.metric.replace('_', ' ')}${t.below === null ? '' : ` below ${t.below} %`} (${t.detail}): ${t.creditPercent} % credit`,
      ]),
    )
    return {
      subject: `SLA credit for ${n.month}: ${n.creditAmount} ${n.currency}`,
      heading: `SLA credit for ${n.month}`,
      lead: `${ctx.customerName} did not get the service its SLA promises in ${n.month}. A credit of ${n.creditAmount} ${n.currency} is applied to the ${n.billingCycle} bill.`,
      facts,
      links: [report],
    }
  }
  return {
    subject: `SLA report for ${n.month}: no credit due`,
    heading: `SLA report for ${n.month}`,
    lead: `Here are the SLA figures of ${ctx.customerName} for ${n.month}. No credit is due.`,
    facts,
    links: [report],
  }
}

const POLICY_AT_100: Record<BudgetNotice['policy'], string> = {
  notify: 'nothing changes: you are notified only',
  fallback: 'steps that declare a fallback run it instead',
  pause: 'new runs stay queued until the budget is raised or the month turns',
}

function budgetLetter(n: BudgetNotice, ctx: LetterContext): Letter {
  const what = n.metric === 'aiTokens' ? 'AI token' : 'total cost'
  const facts: [string, string][] = [
    ['Month', n.month],
    ['Budget', `${n.budget} ${n.currency} (${what})`],
    ['Spent so far', `${n.spent} ${n.currency}`],
    ['Forecast for the month', `${n.forecast.monthEnd} ${n.currency}`],
  ]
  if (n.forecast.reachesBudgetAt) facts.push(['Budget reached at this rate', utc(n.forecast.reachesBudgetAt)])
  facts.push(['At 100%', POLICY_AT_100[n.policy]])
  return {
    subject: `Budget ${n.threshold}% reached for ${n.month}: ${n.spent} of ${n.budget} ${n.currency}`,
    heading: `${n.threshold}% of your ${what} budget for ${n.month}`,
    lead: `${ctx.customerName} has spent ${n.spent} ${n.currency} of its ${n.budget} ${n.currency} ${what} budget for ${n.month}.`,
    facts,
    links: [{ label: 'Budget status (API, with your token)', href: `${ctx.apiBase}${n.status}` }],
  }
}

function letterOf(notice: NoticeForEmail, ctx: LetterContext): Letter {
  if (notice.kind === 'budget.threshold') return budgetLetter(BudgetNotice.parse(notice.payload), ctx)
  if (notice.kind.startsWith('incident.'))
    return incidentLetter(notice.kind, IncidentNotice.parse(notice.payload), ctx)
  if (notice.kind.startsWith('sla.')) return slaLetter(notice.kind, SlaNotice.parse(notice.payload), ctx)
  throw new Error(`no e-mail is written for notices of kind ${notice.kind}`)
}

const esc = (s: string) => s.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`)
const oneLine = (s: string) => s.replace(/\s+/g, ' ').trim()

function toText(l: Letter, footer: string): string {
  const width = Math.max(...l.facts.map(([k]) => k.length)) + 2
  return [
    l.heading,
    '',
    l.lead,
    '',
    ...l.facts.map(([k, v]) => `${`${k}:`.padEnd(width)}${oneLine(v)}`),
    ...(l.message ? ['', `${l.message.label}:`, l.message.text] : []),
    '',
    ...l.links.map((x) => `${x.label}: ${x.href}`),
    '',
    '-- ',
    footer,
    '',
  ].join('\n')
}

function toHtml(l: Letter, footer: string): string {
  const row = ([k, v]: [string, string]) =>
    `<tr><th style="text-align:left;padding:4px 16px 4px 0;vertical-align:top">${esc(k)}</th><td style="padding:4px 0">${esc(v)}</td></tr>`
  const message = l.message
    ? `<h2 style="font-size:16px;margin:24px 0 8px">${esc(l.message.label)}</h2>
<p style="white-space:pre-wrap;margin:0;padding:8px 12px;border-left:3px solid #8a8f98">${esc(l.message.text)}</p>`
    : ''
  // Only links this Steward made (its own URL) are ever shown as links.
  const link = (x: { label: string; href: string }) =>
    /^https?:\/\//.test(x.href)
      ? `<li><a href="${esc(x.href)}" style="color:#0b5cad">${esc(x.label)}</a></li>`
      : `<li>${esc(x.label)}: ${esc(x.href)}</li>`
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(l.subject)}</title></head>
<body style="margin:0;padding:24px;font-family:-apple-system,'Segoe UI',Helvetica,Arial,sans-serif;font-size:14px;line-height:1.5;color:#1d2125;background:#ffffff">
<h1 style="font-size:20px;margin:0 0 12px">${esc(l.heading)}</h1>
<p style="margin:0 0 16px">${esc(l.lead)}</p>
<table style="border-collapse:collapse">${l.facts.map(row).join('')}</table>
${message}
<ul style="padding-left:20px;margin:24px 0">${l.links.map(link).join('')}</ul>
<p style="color:#5e6670;font-size:12px;border-top:1px solid #d0d4d9;padding-top:8px">${esc(footer)}</p>
</body></html>
`
}

/**
 * The e-mail of `notice` for one contact (`to`). Throws when the notice's payload is not what its
 * kind promises (it cannot be written; the delivery is rejected and reported).
 */
export function renderEmail(notice: NoticeForEmail, to: string, ctx: LetterContext): EmailContent {
  const l = letterOf(notice, ctx)
  const footer = `Sent by Steward to ${to}, a contact of ${ctx.customerName} (notice ${notice.id}, ${notice.kind}).`
  return {
    subject: oneLine(`[Steward] ${l.subject}`).slice(0, 200),
    text: toText(l, footer),
    html: toHtml(l, footer),
  }
}
