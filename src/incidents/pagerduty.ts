// PagerDuty Events API v2 through @pagerduty/pdjs: building events within the API's field limits
// and sending one, classifying the answer for the delivery outbox.
//
// pdjs 2.2.4 facts this relies on (docs/incidents.md): non-2xx answers resolve rather than reject;
// a 429 is retried inside pdjs three times 20 s apart (we stop that: the outbox owns retries and
// spacing); its timeout does not abort (we pass our own AbortSignal); it parses every body as
// JSON, so a non-JSON error page rejects. To know the status in every case, each send uses its own
// https.Agent that taps the HTTP response status before pdjs sees it, and aborts on 429 so pdjs
// never re-sends on its own.
import type { ClientRequest, IncomingMessage } from 'node:http'
import https from 'node:https'
import { event as pdEvent } from '@pagerduty/pdjs'
import type { Severity } from './schemas.ts'

export type PagerDutyAction = 'trigger' | 'acknowledge' | 'resolve'

/** What the outbox stores for a PagerDuty delivery: the event without the routing key (a secret). */
export interface StoredPagerDutyEvent {
  event_action: PagerDutyAction
  dedup_key: string
  payload?: {
    summary: string
    source: string
    severity: Severity
    timestamp?: string
    component?: string
    group?: string
    class?: string
    custom_details?: Record<string, unknown>
  }
  links?: { href: string; text?: string }[]
}

export type SendOutcome =
  | { outcome: 'delivered'; status: number }
  | { outcome: 'rejected'; status: number; error: string }
  | { outcome: 'rate_limited'; status: 429; error: string }
  | { outcome: 'retryable'; status?: number; error: string }

const cut = (s: string, max: number) => (s.length <= max ? s : `${s.slice(0, max - 1)}…`)

export interface TriggerInput {
  incidentId: string
  summary: string
  source: string
  severity: Severity
  rule: string
  scope: string
  openedAt: Date
  customers: string[]
  details: Record<string, unknown>
  links: { href: string; text: string }[]
}

/** A trigger event within the documented limits (summary ≤ 1024, dedup_key ≤ 255, payload ≤ 512 KB). */
export function buildTrigger(i: TriggerInput): StoredPagerDutyEvent {
  const customers = i.customers.slice(0, 100)
  return {
    event_action: 'trigger',
    dedup_key: cut(i.incidentId, 255),
    payload: {
      summary: cut(i.summary, 1024),
      source: cut(i.source, 255),
      severity: i.severity,
      timestamp: i.openedAt.toISOString(),
      component: cut(i.scope || 'factory', 255),
      group: cut(i.scope.split(':')[0] || 'factory', 255),
      class: cut(i.rule, 255),
      custom_details: {
        incident_id: i.incidentId,
        rule: i.rule,
        scope: i.scope,
        affected_customers: customers,
        affected_customers_total: i.customers.length,
        // Rule figures are small objects; cap the serialised size far below the 512 KB limit.
        evaluation: JSON.stringify(i.details).length > 16_000 ? { truncated: true } : i.details,
        links: Object.fromEntries(i.links.map((l) => [l.text, l.href])),
      },
    },
    links: i.links,
  }
}

export function buildFollowUp(action: 'acknowledge' | 'resolve', incidentId: string): StoredPagerDutyEvent {
  return { event_action: action, dedup_key: cut(incidentId, 255) }
}

/** An https.Agent that reports each response's status before the client library reads it. */
class StatusTapAgent extends https.Agent {
  constructor(
    options: https.AgentOptions,
    private readonly onStatus: (status: number) => void,
  ) {
    super(options)
  }
  addRequest(req: ClientRequest, options: unknown): void {
    req.once('response', (res: IncomingMessage) => this.onStatus(res.statusCode ?? 0))
    const base = https.Agent.prototype as unknown as { addRequest(r: ClientRequest, o: unknown): void }
    base.addRequest.call(this, req, options)
  }
}

export interface SendOptions {
  host: string
  routingKey: string
  ca?: string
  timeoutMs: number
}

/** Sends one event with pdjs and classifies the outcome (never throws). */
export async function sendPagerDutyEvent(e: StoredPagerDutyEvent, opts: SendOptions): Promise<SendOutcome> {
  const controller = new AbortController()
  let status: number | undefined
  const agent = new StatusTapAgent({ ca: opts.ca, keepAlive: false }, (s) => {
    status = s
    if (s === 429) controller.abort(new Error('rate limited (429)'))
  })
  const timer = setTimeout(
    () => controller.abort(new Error(`timed out after ${opts.timeoutMs} ms`)),
    opts.timeoutMs,
  )
  let body: unknown
  let error: string | undefined
  try {
    const res = await pdEvent({
      server: opts.host,
      data: { ...e, routing_key: opts.routingKey } as Parameters<typeof pdEvent>[0]['data'],
      // pdjs spreads these into its fetch (node-fetch v2): the agent carries the CA, the signal our timeout.
      ...({ agent, signal: controller.signal } as object),
      retryTimeout: 0,
      // pdjs's own timer aborts nothing and, left pending after an error, would hold the process open.
      requestTimeout: 0,
    })
    status = res.status
    body = res.data
  } catch (err) {
    error = (err as Error)?.message ?? String(err)
  } finally {
    clearTimeout(timer)
    agent.destroy()
  }
  if (status === undefined) return { outcome: 'retryable', error: error ?? 'no response' }
  if (status === 429) return { outcome: 'rate_limited', status, error: 'rate limited (429)' }
  if (status >= 200 && status < 300) return { outcome: 'delivered', status }
  const detail = describeBody(body) ?? error ?? `HTTP ${status}`
  if (status >= 500 || status === 408) return { outcome: 'retryable', status, error: detail }
  return { outcome: 'rejected', status, error: detail }
}

function describeBody(body: unknown): string | undefined {
  if (!body || typeof body !== 'object') return undefined
  const b = body as { message?: unknown; errors?: unknown }
  const errors = Array.isArray(b.errors) ? `: ${b.errors.join('; ')}` : ''
  return typeof b.message === 'string' ? cut(`${b.message}${errors}`, 1000) : undefined
}
