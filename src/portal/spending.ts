// The dashboard's spending section: the customer's monthly budgets (docs/cost.md, "Budgets") as
// the budgets module reports them, the thresholds crossed, the forecast, and what the budget's
// policy does now, in words.
import { html } from 'hono/html'
import type { BudgetStatus } from '../budgets/index.ts'
import { utc } from '../status/index.ts'
import type { PortalView } from './dashboard.ts'
import { money } from './sections.ts'

const METRIC = { aiTokens: 'AI token budget', total: 'Total cost budget' } as const
const POLICY = {
  notify: 'you are notified; nothing else changes',
  fallback: 'steps that declare a fallback run it instead',
  pause: 'new runs stay queued until the budget is raised, the month turns or your operator releases them',
} as const

function enforcement(s: BudgetStatus) {
  switch (s.enforcement.state) {
    case 'paused':
      return html`<p class="notice" role="status" data-budget-state="paused"><strong>New runs are paused</strong>: the budget is reached. Runs already started go on; new ones start when the budget is raised, the month turns, or your operator releases them.</p>`
    case 'fallback':
      return html`<p class="notice" role="status" data-budget-state="fallback"><strong>Fallbacks in use</strong>: the budget is reached, so steps that declare a fallback run it.</p>`
    case 'released':
      return html`<p data-budget-state="released">Your operator released the budget's policy for the rest of the month.</p>`
    default:
      return ''
  }
}

function metricCard(m: BudgetStatus['metrics'][number], currency: string) {
  const crossed = m.thresholds.filter((t) => t.crossedAt)
  const reaches = m.forecast.reachesBudgetAt
  return html`<div class="card" data-budget="${m.metric}"><p class="label">${METRIC[m.metric]}</p><p class="figure" data-field="budget-${m.metric}">${m.percent === null ? '—' : `${m.percent}%`}</p><p class="sub">${money(m.spentCents, currency)} of ${money(m.budgetCents, currency)} · month-end forecast ${money(m.forecast.monthEndCents, currency)}${reaches ? html` · <span class="missed">reached at this rate <time datetime="${reaches}">${utc(reaches)}</time></span>` : ''}</p>${
    crossed.length
      ? html`<p class="sub">${crossed.map((t, i) => html`${i ? ' · ' : ''}${t.threshold}% on <time datetime="${t.crossedAt}">${utc(t.crossedAt!)}</time>`)}</p>`
      : ''
  }</div>`
}

export function spendingSection(v: PortalView['spending']) {
  if (!v.ok) return html`<p class="none">${v.unavailable}.</p>`
  const s = v.value
  if (s.status === 'none')
    return html`<p class="none">No monthly budget is set. Your operator can set one on AI tokens and on total cost, with what happens at 100%.</p>`
  if (s.status === 'unmeasured')
    return html`<p data-budget-state="unmeasured">Your budget cannot be compared yet: ${s.reason}.</p>`
  const currency = s.currency ?? ''
  return html`${enforcement(s)}<div class="cards">${s.metrics.map((m) => metricCard(m, currency))}</div>
<p>At 100%: ${POLICY[s.policy]}. You are notified at 50, 80 and 100% of each budget.${s.unpriced.models.length || s.unpriced.pools.length ? ' Some usage has no price yet: the figures are a lower bound.' : ''}</p>`
}
