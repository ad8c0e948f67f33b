// The Atom 1.0 feed of incidents (GET /status/feed.atom, RFC 4287): one entry per incident of
// the status page, open and resolved.
//
// Guarantees: an entry's id is the incident's (urn:uuid:<uuid>) and never changes; its `updated`
// moves when the incident changes (an update, acknowledgement, resolution), so feed readers show
// it again. The feed's `updated` is its newest entry's. Text is escaped, and characters XML 1.0
// forbids are dropped, so an operator's message can never make the feed invalid.
import { againstEstimate, duration, utc } from './format.ts'
import type { StatusIncident, StatusSnapshot } from './schemas.ts'

/** Drops what XML 1.0 forbids: control characters but TAB, LF and CR, lone surrogates, U+FFFE/U+FFFF. */
function xmlChars(s: string): string {
  let out = ''
  // for..of walks code points: a paired surrogate arrives whole, a lone one alone.
  for (const ch of s) {
    const c = ch.codePointAt(0)!
    const control = c < 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d
    if (control || (c >= 0xd800 && c <= 0xdfff) || c === 0xfffe || c === 0xffff) continue
    out += ch
  }
  return out
}

export function xmlText(s: string): string {
  return xmlChars(s)
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
}

/** The latest moment the incident changed. */
export function lastChange(i: StatusIncident): string {
  return [i.startedAt, i.acknowledgedAt, i.resolvedAt, i.latestUpdate?.at]
    .filter((t): t is string => !!t)
    .sort()
    .at(-1)!
}

/** The incident id as a URN: `inc_<uuid>` → `urn:uuid:<uuid>`. */
export const entryId = (incidentId: string) => `urn:uuid:${incidentId.replace(/^inc_/, '')}`

function entryText(i: StatusIncident): string {
  const lines = [`Status: ${i.status}. Started ${utc(i.startedAt)}.`]
  if (i.postIncident) {
    const p = i.postIncident
    lines.push(
      `Resolved ${utc(i.resolvedAt!)} after ${duration(p.durationSeconds)} (${againstEstimate(p.differenceSeconds)}).`,
      `Root cause: ${p.rootCause ?? 'under review'}.`,
      `Prevention: ${p.prevention ?? 'under review'}.`,
    )
  } else {
    lines.push(`Estimated recovery: ${utc(i.estimatedRecoveryAt)}.`)
  }
  for (const u of i.updates) lines.push(`Update ${utc(u.at)}: ${u.message}`)
  return lines.join('\n')
}

export function renderFeed(s: StatusSnapshot, baseUrl: string): string {
  const base = baseUrl.replace(/\/+$/, '')
  const incidents = [...s.incidents.open, ...s.incidents.past].sort((a, b) =>
    lastChange(b).localeCompare(lastChange(a)),
  )
  const updated = incidents.length ? lastChange(incidents[0]!) : s.generatedAt
  const entries = incidents.map(
    (i) => `  <entry>
    <id>${entryId(i.id)}</id>
    <title>${xmlText(`${i.status === 'resolved' ? 'Resolved' : i.status === 'acknowledged' ? 'Acknowledged' : 'Investigating'}: ${i.title}`)}</title>
    <link rel="alternate" type="text/html" href="${xmlText(`${base}/status#${i.id}`)}"/>
    <published>${i.startedAt}</published>
    <updated>${lastChange(i)}</updated>
    <summary type="text">${xmlText(entryText(i))}</summary>
  </entry>`,
  )
  return `<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom">
  <id>${xmlText(`${base}/status`)}</id>
  <title>Steward status: incidents</title>
  <subtitle>Incidents of the Steward platform, with recovery estimates and post-incident summaries</subtitle>
  <link rel="self" type="application/atom+xml" href="${xmlText(`${base}/status/feed.atom`)}"/>
  <link rel="alternate" type="text/html" href="${xmlText(`${base}/status`)}"/>
  <updated>${updated}</updated>
  <author><name>Steward</name></author>
  <generator>Steward</generator>
${entries.join('\n')}
</feed>
`
}
