// Incidents as the public sees them: a title and components from the rule and scope (never the
// internal summary, which names customers and figures), public wording of the status, the
// recovery estimate, operators' updates, and for resolved ones the post-incident summary.
//
// Guarantees: no customer id or name reaches the page: operators' text (updates, root cause,
// prevention) and pool names pass through `scrub`, which replaces every customer id and name.
import type { PublicIncident } from '../incidents/index.ts'
import type { StatusIncident } from './schemas.ts'

/** Components an incident of (rule, scope) affects, and its public title. */
export function publicTitle(rule: string, scope: string): { title: string; componentIds: string[] } {
  const pool = scope.startsWith('pool:') ? scope.slice('pool:'.length) : null
  switch (rule) {
    case 'uptime_burn':
      return { title: 'The control plane is intermittently unavailable', componentIds: ['api'] }
    case 'probe_failures':
      return { title: 'Health checks of the API are failing', componentIds: ['api'] }
    case 'queue_without_workers':
      return {
        title: `Jobs in pool ${pool} are waiting: no worker is running`,
        componentIds: [`pool:${pool}`],
      }
    case 'worker_error_rate':
      return { title: `Elevated job failures in pool ${pool}`, componentIds: [`pool:${pool}`] }
    default:
      return { title: 'Service disruption', componentIds: ['api'] }
  }
}

const seconds = (from: string, to: string) => Math.max(0, (Date.parse(to) - Date.parse(from)) / 1000)

/** Replaces each customer id and name, as a whole word, in public text. */
export function customerScrubber(customers: { id: string; name: string }[]): (text: string) => string {
  const words = [...new Set(customers.flatMap((c) => [c.id, c.name]).filter((w) => w.trim().length > 0))]
    // Longest first, so a name containing an id is replaced whole.
    .sort((a, b) => b.length - a.length)
    .map((w) =>
      w
        .trim()
        .replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
        .replace(/\s+/g, '\\s+'),
    )
  if (!words.length) return (text) => text
  const re = new RegExp(`(?<![\\p{L}\\p{N}])(?:${words.join('|')})(?![\\p{L}\\p{N}])`, 'giu')
  // At the start of a sentence: "A customer".
  return (text) =>
    text.replace(re, (_m, offset: number, all: string) =>
      /(^|[.!?]\s+)$/.test(all.slice(0, offset)) ? 'A customer' : 'a customer',
    )
}

export function toStatusIncident(i: PublicIncident, scrub: (text: string) => string): StatusIncident {
  const { title, componentIds } = publicTitle(i.rule, i.scope)
  const updates = i.updates
    .map((u) => ({ at: u.at, message: scrub(u.message) }))
    .sort((a, b) => b.at.localeCompare(a.at))
  const estimatedSeconds = seconds(i.openedAt, i.estimatedRecoveryAt)
  const durationSeconds = i.resolvedAt ? seconds(i.openedAt, i.resolvedAt) : null
  return {
    id: i.id,
    title: scrub(title),
    componentIds: componentIds.map(scrub),
    impact: i.severity === 'critical' ? 'outage' : 'degraded',
    status: i.status === 'triggered' ? 'investigating' : i.status,
    startedAt: i.openedAt,
    acknowledgedAt: i.acknowledgedAt,
    resolvedAt: i.resolvedAt,
    estimatedRecoveryAt: i.estimatedRecoveryAt,
    estimateSource: i.estimateSource,
    latestUpdate: updates[0] ?? null,
    updates,
    postIncident:
      durationSeconds === null
        ? null
        : {
            durationSeconds,
            estimatedSeconds,
            differenceSeconds: durationSeconds - estimatedSeconds,
            rootCause: i.rootCause === null ? null : scrub(i.rootCause),
            prevention: i.prevention === null ? null : scrub(i.prevention),
          },
  }
}
