// The public status page (GET /status): server-rendered HTML with inline CSS and SVG, no script
// and no external asset. Landmarks (header, main, footer), one h1 and a heading per section,
// states written in words (never colour alone), a table behind the uptime bars, and text with at
// least 4.5:1 contrast.
import { html, raw } from 'hono/html'
import { DAY_COLOURS, DAY_LABELS, uptimeBars } from './bars.ts'
import { againstEstimate, duration, untilEstimate, utc } from './format.ts'
import type { ComponentState, StatusComponent, StatusIncident, StatusSnapshot } from './schemas.ts'

const STATE_LABELS: Record<ComponentState, string> = {
  operational: 'Operational',
  degraded: 'Degraded',
  outage: 'Outage',
}
const STATUS_LABELS: Record<StatusIncident['status'], string> = {
  investigating: 'Investigating',
  acknowledged: 'Acknowledged: engineers are working on it',
  resolved: 'Resolved',
}

/** The component list and its states, in words beside a dot of their colour (the portal shows them too). */
export const COMPONENT_CSS = `.components{list-style:none;margin:0;padding:0;border:1px solid #d0d7de;border-radius:6px}
.components li{display:flex;justify-content:space-between;gap:1rem;padding:.6rem 1rem;border-top:1px solid #d0d7de}
.components li:first-child{border-top:0}
.components li.child{padding-left:2.25rem}
.components .name{font-weight:600}
.components .detail{display:block;font-size:.9rem;color:#59636e}
.state{white-space:nowrap;font-weight:600}
.state::before{content:"";display:inline-block;width:.7em;height:.7em;border-radius:50%;margin-right:.4em;vertical-align:baseline}
.state.operational{color:#1a7f37}.state.operational::before{background:#1a7f37}
.state.degraded{color:#9a6700}.state.degraded::before{background:#9a6700}
.state.outage{color:#cf222e}.state.outage::before{background:#cf222e}
.banner.operational{background:#1a7f37}.banner.degraded{background:#9a6700}.banner.outage{background:#cf222e}`

const CSS = `
:root{color-scheme:light}
*{box-sizing:border-box}
body{margin:0;font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1f2328;background:#fff}
.wrap{max-width:960px;margin:0 auto;padding:0 1rem}
header{border-bottom:1px solid #d0d7de;padding:1.25rem 0}
header h1{margin:0;font-size:1.6rem}
a{color:#0550ae}
.banner{margin:1.25rem 0;padding:1rem 1.25rem;border-radius:6px;font-size:1.2rem;font-weight:600;color:#fff}
section{margin:2rem 0}
h2{font-size:1.25rem;border-bottom:1px solid #d0d7de;padding-bottom:.3rem}
h3{font-size:1.05rem;margin:0 0 .25rem}
${COMPONENT_CSS}
article{border:1px solid #d0d7de;border-left-width:6px;border-radius:6px;padding:.8rem 1rem;margin:0 0 1rem}
article.outage{border-left-color:#cf222e}article.degraded{border-left-color:#9a6700}article.resolved{border-left-color:#59636e}
.meta{margin:.2rem 0;color:#59636e;font-size:.95rem}
.estimate{margin:.4rem 0;font-weight:600}
.update{margin:.4rem 0 0;padding:.5rem .75rem;background:#f6f8fa;border-radius:6px}
dl.summary{display:grid;grid-template-columns:max-content 1fr;gap:.2rem 1rem;margin:.5rem 0 0}
dl.summary dt{font-weight:600}dl.summary dd{margin:0}
figure{margin:0}.bars{display:block;margin:.5rem 0}
.axis{display:flex;justify-content:space-between;color:#59636e;font-size:.9rem}
.legend{list-style:none;display:flex;flex-wrap:wrap;gap:1rem;padding:0;margin:.5rem 0;font-size:.9rem}
.legend span{display:inline-block;width:.8em;height:.8em;border-radius:2px;margin-right:.35em;vertical-align:baseline}
table{border-collapse:collapse;font-size:.9rem}td,th{border:1px solid #d0d7de;padding:.2rem .6rem;text-align:left}
footer{border-top:1px solid #d0d7de;margin-top:2rem;padding:1rem 0 2rem;color:#59636e;font-size:.9rem}
.none{color:#59636e}
`

function componentList(components: StatusComponent[]) {
  return html`<ul class="components">
${components.map(
  (c) =>
    html`<li class="${c.parent ? 'child' : ''}" data-component="${c.id}"><div><span class="name">${c.name}</span><span class="detail">${c.detail}</span></div><span class="state ${c.state}">${STATE_LABELS[c.state]}</span></li>`,
)}
</ul>`
}

function openIncident(i: StatusIncident, now: string) {
  return html`<article class="${i.impact}" id="${i.id}" data-incident="${i.id}">
<h3>${i.title}</h3>
<p class="meta"><strong>${STATUS_LABELS[i.status]}</strong> · started <time datetime="${i.startedAt}">${utc(i.startedAt)}</time> · impact: ${STATE_LABELS[i.impact].toLowerCase()}</p>
<p class="estimate" data-estimate="${i.estimatedRecoveryAt}">Estimated recovery: <time datetime="${i.estimatedRecoveryAt}">${utc(i.estimatedRecoveryAt)}</time> (${untilEstimate(i.estimatedRecoveryAt, now)}; ${i.estimateSource === 'operator' ? 'our engineers’ estimate' : 'our recovery-time objective for this kind of failure'})</p>
${
  i.latestUpdate
    ? html`<p class="update"><strong>Latest update</strong> (<time datetime="${i.latestUpdate.at}">${utc(i.latestUpdate.at)}</time>): ${i.latestUpdate.message}</p>`
    : html`<p class="update">We are investigating and will post updates here.</p>`
}
</article>`
}

function pastIncident(i: StatusIncident) {
  const p = i.postIncident!
  return html`<article class="resolved" id="${i.id}" data-incident="${i.id}">
<h3>${i.title}</h3>
<p class="meta">Resolved <time datetime="${i.resolvedAt ?? ''}">${utc(i.resolvedAt ?? i.startedAt)}</time> after ${duration(p.durationSeconds)} · impact: ${STATE_LABELS[i.impact].toLowerCase()}</p>
<dl class="summary">
<dt>Duration</dt><dd>${duration(p.durationSeconds)} (from <time datetime="${i.startedAt}">${utc(i.startedAt)}</time>)</dd>
<dt>Estimate</dt><dd>${duration(p.estimatedSeconds)}: recovered ${againstEstimate(p.differenceSeconds)}</dd>
<dt>Root cause</dt><dd>${p.rootCause ?? 'Under review'}</dd>
<dt>Prevention</dt><dd>${p.prevention ?? 'Under review'}</dd>
${i.latestUpdate ? html`<dt>Last update</dt><dd>${i.latestUpdate.message}</dd>` : ''}
</dl>
</article>`
}

function uptimeSection(u: StatusSnapshot['uptime']) {
  if (u.unavailable) return html`<p class="none">${u.unavailable}.</p>`
  const measured = u.history.filter((d) => d.state !== 'no_data')
  return html`<p>${u.percent === null ? 'No uptime measured yet.' : html`<strong>${u.percent}%</strong> uptime over the last ${u.days} days${measured.length < u.history.length ? ` (measured since ${u.firstDataAt ? utc(u.firstDataAt) : '—'})` : ''}. Target: ${u.targetPercent}%.`}</p>
<figure>
${uptimeBars(u)}
<figcaption class="axis"><span>${u.days} days ago</span><span>Today</span></figcaption>
</figure>
<ul class="legend">${(['operational', 'degraded', 'outage', 'maintenance', 'no_data'] as const).map(
    (s) => html`<li><span style="background:${DAY_COLOURS[s]}"></span>${DAY_LABELS[s]}</li>`,
  )}</ul>
<details><summary>Uptime by day (table)</summary>
<table><thead><tr><th scope="col">Day</th><th scope="col">State</th><th scope="col">Uptime</th><th scope="col">Down minutes</th></tr></thead>
<tbody>${[...u.history]
    .reverse()
    .map(
      (d) =>
        html`<tr><td>${d.day}</td><td>${DAY_LABELS[d.state]}</td><td>${d.percent === null ? '—' : `${d.percent}%`}</td><td>${d.state === 'no_data' ? '—' : d.downMinutes}</td></tr>`,
    )}</tbody></table>
</details>`
}

export function renderStatusPage(s: StatusSnapshot) {
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Steward status: ${s.summary}</title>
<link rel="icon" href="data:,">
<link rel="alternate" type="application/atom+xml" title="Steward incidents" href="/status/feed.atom">
<link rel="alternate" type="application/json" title="Steward status (JSON)" href="/v1/status">
<style>${raw(CSS)}</style>
</head>
<body>
<header><div class="wrap"><h1>Steward status</h1></div></header>
<main class="wrap">
<p class="banner ${s.status}" role="status">${s.summary}</p>
<section aria-labelledby="open-h">
<h2 id="open-h">Current incidents</h2>
${
  s.incidents.unavailable
    ? html`<p class="none">${s.incidents.unavailable}.</p>`
    : s.incidents.open.length
      ? s.incidents.open.map((i) => openIncident(i, s.generatedAt))
      : html`<p class="none">No incidents right now.</p>`
}
</section>
<section aria-labelledby="components-h">
<h2 id="components-h">Components</h2>
${componentList(s.components)}
</section>
<section aria-labelledby="uptime-h">
<h2 id="uptime-h">Uptime, last ${s.uptime.days} days</h2>
${uptimeSection(s.uptime)}
</section>
<section aria-labelledby="past-h">
<h2 id="past-h">Past incidents</h2>
${s.incidents.past.length ? s.incidents.past.map(pastIncident) : html`<p class="none">No incidents in the last ${s.uptime.days} days.</p>`}
</section>
</main>
<footer><div class="wrap">Updated <time datetime="${s.generatedAt}">${utc(s.generatedAt)}</time>. Also as <a href="/v1/status">JSON</a> and an <a href="/status/feed.atom">Atom feed</a> of incidents. Times are UTC.</div></footer>
</body>
</html>
`
}
