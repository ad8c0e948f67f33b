// The dashboard page (GET /portal) and its refresh (GET /portal/api/dashboard): the same server-
// rendered sections, so the page without JavaScript and the page after a refresh show the same
// thing. Each section carries a hash of its HTML; the inline script swaps in a section whose hash
// changed (never one holding the keyboard focus).
import { createHash } from 'node:crypto'
import { html, raw } from 'hono/html'
import { utc } from '../status/index.ts'
import type { PortalView } from './dashboard.ts'
import { layout } from './layout.ts'
import { REFRESH_SCRIPT } from './script.ts'
import { creditsSection, incidentsSection, liveSection, runsSection, slaSection } from './sections.ts'
import { spendingSection } from './spending.ts'

export interface PageContext {
  csrf: string
  incidentDays: number
  refreshSeconds: number
}

const SECTIONS = [
  { id: 'live', heading: 'Live status of what you use' },
  { id: 'sla', heading: 'This month against your plan' },
  { id: 'spending', heading: 'Spending this month' },
  { id: 'incidents', heading: 'Incidents affecting you' },
  { id: 'runs', heading: 'Recent runs' },
  { id: 'credits', heading: 'SLA credits' },
] as const
type SectionId = (typeof SECTIONS)[number]['id']

/** Each section's HTML and the hash the page compares. */
export async function renderSections(
  v: PortalView,
  ctx: PageContext,
): Promise<Record<SectionId, { hash: string; html: string }>> {
  const parts: Record<SectionId, unknown> = {
    live: liveSection(v.live),
    sla: slaSection(v.sla),
    spending: spendingSection(v.spending),
    incidents: incidentsSection(v.incidents, v.generatedAt, ctx.incidentDays),
    runs: runsSection(v.runs, ctx.csrf),
    credits: creditsSection(v.credits, v.generatedAt.slice(0, 7)),
  }
  const out = {} as Record<SectionId, { hash: string; html: string }>
  for (const { id } of SECTIONS) {
    const text = String(await html`${parts[id]}`)
    out[id] = { hash: createHash('sha256').update(text).digest('base64url').slice(0, 16), html: text }
  }
  return out
}

export async function renderDashboard(v: PortalView, ctx: PageContext & { nonce: string; notice?: string }) {
  const sections = await renderSections(v, ctx)
  return layout({
    title: `${v.customer.name} · Steward portal`,
    nonce: ctx.nonce,
    heading: html`<div><h1>${v.customer.name}</h1><p>Your Steward dashboard · customer <code>${v.customer.id}</code></p></div>`,
    headerAside: html`<form method="post" action="/portal/logout"><input type="hidden" name="csrf" value="${ctx.csrf}"><button type="submit">Sign out</button></form>`,
    body: html`${ctx.notice ? html`<p class="notice" role="status">${ctx.notice}</p>` : ''}
<p class="meta" data-refresh="/portal/api/dashboard" data-every="${ctx.refreshSeconds}">Figures as of <time id="as-of" datetime="${v.generatedAt}">${utc(v.generatedAt)}</time>. <span id="live-note" role="status"></span></p>
${SECTIONS.map(
  (s) => html`<section aria-labelledby="${s.id}-h" id="${s.id}">
<h2 id="${s.id}-h">${s.heading}</h2>
<div data-section="${s.id}" data-hash="${sections[s.id].hash}">${raw(sections[s.id].html)}</div>
</section>`,
)}`,
    script: REFRESH_SCRIPT,
  })
}
