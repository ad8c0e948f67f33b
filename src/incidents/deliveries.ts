// The delivery outbox: PagerDuty events, customer webhooks and customer e-mail, queued in PostgreSQL
// in the same transaction as the incident change (or the claim of the notice) they announce, and
// sent by a drain loop.
//
// Guarantees:
// - nothing queued is lost: a row stays pending until the receiver answered 2xx (delivered) or a
//   permanent 4xx (rejected, logged); 429/5xx/network/timeouts retry with exponential backoff and
//   jitter (capped), so a PagerDuty outage delays pages and a recovered receiver gets them all;
//   e-mail alike, in SMTP's terms (email.ts): 250 delivered, 5xx rejected and reported, 4xx and
//   connection failures retried;
// - a customer's webhook URL goes through the egress policy (src/egress): a URL it refuses
//   (loopback, private, metadata, ...) is never requested; the delivery is rejected with the
//   refusal as its error, logged, and counted with outcome `refused`;
// - nothing is sent twice by two instances: one drain per channel across the fleet (advisory lock);
//   a crash between the receiver's 2xx and our commit re-sends that one event on restart, which
//   PagerDuty deduplicates by dedup_key (= incident id), customers' webhooks by X-Steward-Delivery
//   and mail systems by the Message-ID (stored with the e-mail's row, the same on every attempt);
// - order: a row waits while an older row with the same order key (incident or customer) is pending,
//   so a resolve never overtakes its trigger.
import { createHmac, randomUUID } from 'node:crypto'
import type { Counter } from 'prom-client'
import { type Pool, type Queryable, transaction } from '../db/postgres.ts'
import { EgressError, type EgressPolicy } from '../egress/index.ts'
import type { Logger } from '../log.ts'
import { claimNotifications, getNotification } from '../notify/index.ts'
import { receives, type TenantsModule } from '../tenants/index.ts'
import type { IncidentsConfig } from './config.ts'
import { type Mailer, messageIdFor } from './email.ts'
import { renderEmail } from './email-content.ts'
import {
  type Channel,
  type Delivery,
  dueDeliveries,
  enqueueEmails,
  enqueueNotices,
  finishDelivery,
  type QueuedEmail,
  retryDelivery,
  withDrainLock,
} from './outbox.ts'
import { type SendOutcome, type StoredPagerDutyEvent, sendPagerDutyEvent } from './pagerduty.ts'
import { addTimeline } from './timeline.ts'

export interface DeliveryOptions {
  pool: Pool
  log: Logger
  delivery: IncidentsConfig['delivery']
  /** Unset: paging disabled; PagerDuty rows stay pending. */
  pagerduty?: { host: string; routingKey: string; ca?: string }
  counters: { pagerduty: Counter<'outcome'>; webhook: Counter<'outcome'> }
  /** Customer webhooks go through it: a URL it refuses is never requested. */
  egress: EgressPolicy
  /** Where each customer's notices go (the tenants module's). */
  tenants: Pick<TenantsModule, 'webhookOf' | 'contactsOf' | 'customers'>
  /** Unset (no SMTP_URL): e-mail disabled; no e-mail deliveries are queued. */
  email?: EmailChannel
}

export interface EmailChannel {
  mailer: Mailer
  from: { name: string; address: string }
  replyTo?: string
  /** Where this Steward's API answers (links in the messages). */
  apiBase: string
  counter: Counter<'outcome'>
}

type Outcome = { status: 'delivered' | 'rejected' | 'skipped' } | { status: 'retry'; rateLimited?: boolean }
interface Attempt {
  outcome: Outcome
  /** The receiver's status: HTTP, or the SMTP reply code. */
  httpStatus?: number
  error?: string
  label: string
  /** Logged as an error even when the attempt is retried (e.g. refused SMTP credentials). */
  alarm?: string
}

export function backoffMs(attempts: number, d: IncidentsConfig['delivery'], rateLimited = false): number {
  const exp = Math.min(d.maxBackoffMs, d.backoffMs * 2 ** Math.min(attempts, 30))
  const base = rateLimited ? Math.max(d.rateLimitBackoffMs, exp) : exp
  // Jitter in [50%, 100%]: a fleet of senders does not retry in lock-step.
  return Math.round(base * (0.5 + Math.random() * 0.5))
}

async function sendToPagerDuty(row: Delivery, o: DeliveryOptions): Promise<Attempt> {
  const pd = o.pagerduty!
  const r: SendOutcome = await sendPagerDutyEvent(row.body as unknown as StoredPagerDutyEvent, {
    ...pd,
    timeoutMs: o.delivery.timeoutMs,
  })
  const error = 'error' in r ? r.error : undefined
  if (r.outcome === 'delivered')
    return { outcome: { status: 'delivered' }, httpStatus: r.status, label: 'delivered' }
  if (r.outcome === 'rejected')
    return { outcome: { status: 'rejected' }, httpStatus: r.status, error, label: 'rejected' }
  if (r.outcome === 'rate_limited') {
    return { outcome: { status: 'retry', rateLimited: true }, httpStatus: 429, error, label: 'rate_limited' }
  }
  return { outcome: { status: 'retry' }, httpStatus: r.status, error, label: 'retry' }
}

/** Signature customers verify: `v1=` + hex HMAC-SHA256 of `<timestamp>.<body>` with their secret. */
export function signWebhook(secret: string, timestamp: string, body: string): string {
  return `v1=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`
}

async function sendToCustomer(row: Delivery, o: DeliveryOptions): Promise<Attempt> {
  const n = row.notificationId === null ? undefined : await getNotification(o.pool, row.notificationId)
  const webhook = n && (await o.tenants.webhookOf(n.customerId))
  if (!n || !webhook)
    return { outcome: { status: 'skipped' }, error: 'no webhook configured', label: 'skipped' }
  // A webhook stored before secrets were required: never sent unsigned (docs/customers.md).
  if (!webhook.secret)
    return {
      outcome: { status: 'skipped' },
      error: 'webhook has no signing secret: not sent unsigned',
      label: 'skipped',
    }
  // The notice as the customer receives it: { id, kind, customerId, createdAt, payload }.
  const body = JSON.stringify(n)
  const timestamp = String(Math.floor(Date.now() / 1000))
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    'user-agent': 'steward-webhooks/1',
    'x-steward-event': n.kind,
    'x-steward-delivery': String(n.id),
    'x-steward-timestamp': timestamp,
  }
  headers['x-steward-signature'] = signWebhook(webhook.secret, timestamp, body)
  try {
    const res = await o.egress.request(webhook.url, {
      method: 'POST',
      headers,
      body,
      followRedirects: false,
      maxResponseBytes: 0,
      timeoutMs: o.delivery.timeoutMs,
    })
    if (res.status >= 200 && res.status <= 299)
      return { outcome: { status: 'delivered' }, httpStatus: res.status, label: 'delivered' }
    const retry = res.status >= 500 || res.status === 408 || res.status === 429
    return retry
      ? { outcome: { status: 'retry' }, httpStatus: res.status, error: `HTTP ${res.status}`, label: 'retry' }
      : {
          outcome: { status: 'rejected' },
          httpStatus: res.status,
          error: `HTTP ${res.status}`,
          label: 'rejected',
        }
  } catch (err) {
    // A webhook URL the egress policy refuses is never requested: the delivery fails for good.
    if (err instanceof EgressError && err.permanent)
      return { outcome: { status: 'rejected' }, error: err.message, label: 'refused' }
    return { outcome: { status: 'retry' }, error: (err as Error).message, label: 'retry' }
  }
}

async function sendEmail(row: Delivery, o: DeliveryOptions): Promise<Attempt> {
  const email = o.email!
  const n = row.notificationId === null ? undefined : await getNotification(o.pool, row.notificationId)
  if (!n) return { outcome: { status: 'skipped' }, error: 'the notice is gone', label: 'skipped' }
  const to = row.body.to as { address: string; name: string }
  let content: ReturnType<typeof renderEmail>
  try {
    const [customer] = await o.tenants.customers(n.customerId)
    content = renderEmail(n, to.address, {
      customerName: customer?.name ?? n.customerId,
      apiBase: email.apiBase,
    })
  } catch (err) {
    // A payload that is not what its kind promises would fail the same way on every attempt.
    return {
      outcome: { status: 'rejected' },
      error: `cannot write the e-mail: ${(err as Error).message}`,
      label: 'rejected',
    }
  }
  const r = await email.mailer.send({
    from: email.from,
    replyTo: email.replyTo,
    to,
    messageId: String(row.body.messageId),
    ...content,
    headers: { 'X-Steward-Event': n.kind, 'X-Steward-Delivery': String(n.id) },
  })
  if (r.outcome === 'delivered') return { outcome: { status: 'delivered' }, label: 'delivered' }
  return {
    outcome: { status: r.outcome },
    httpStatus: r.responseCode,
    error: r.error,
    label: r.outcome,
    alarm: r.credentials
      ? 'the SMTP server refused our credentials: e-mail waits until SMTP_URL is fixed'
      : undefined,
  }
}

/** One e-mail per (notice, contact of its customer that receives its kind). */
async function emailsFor(
  db: Queryable,
  notices: { id: number; customerId: string; kind: string }[],
  o: DeliveryOptions,
): Promise<QueuedEmail[]> {
  const contacts = await o.tenants.contactsOf([...new Set(notices.map((n) => n.customerId))], db)
  return notices.flatMap((n) =>
    (contacts.get(n.customerId) ?? [])
      .filter((c) => receives(c, n.kind))
      .map((c) => ({
        notificationId: n.id,
        customerId: n.customerId,
        to: { address: c.email, name: c.name },
        messageId: messageIdFor(randomUUID(), o.email!.from.address),
      })),
  )
}

/**
 * Gives each new customer notice its webhook delivery and, with e-mail on, one e-mail delivery per
 * contact that receives its kind (the claim and the queuing commit together).
 */
async function adoptNotices(o: DeliveryOptions): Promise<void> {
  await transaction(o.pool, async (db) => {
    const notices = await claimNotifications(db)
    await enqueueNotices(db, notices)
    if (o.email && notices.length) await enqueueEmails(db, await emailsFor(db, notices, o))
  })
}

const SENDERS: Record<Channel, (row: Delivery, o: DeliveryOptions) => Promise<Attempt>> = {
  pagerduty: sendToPagerDuty,
  webhook: sendToCustomer,
  email: sendEmail,
}

/** One drain pass of a channel; returns how many rows it settled or rescheduled. */
export async function drainChannel(channel: Channel, o: DeliveryOptions): Promise<number> {
  if (channel === 'pagerduty' && !o.pagerduty) return 0
  if (channel === 'email' && !o.email) return 0
  const client = await o.pool.connect()
  let handled = 0
  try {
    await withDrainLock(client, channel, async () => {
      if (channel === 'webhook') await adoptNotices(o)
      for (let batch = 0; batch < 50; batch++) {
        const rows = await dueDeliveries(client, channel)
        if (rows.length === 0) break
        for (const row of rows) {
          await settle(row, await SENDERS[channel](row, o), o, client)
          handled++
        }
      }
    })
  } finally {
    client.release()
  }
  return handled
}

/** Records an attempt: settled or rescheduled, counted, logged, and on the incident's timeline. */
async function settle(row: Delivery, a: Attempt, o: DeliveryOptions, db: Queryable): Promise<void> {
  const channel = row.channel
  ;(channel === 'email' ? o.email?.counter : o.counters[channel])?.inc({ outcome: a.label })
  const err = a.error?.slice(0, 1000) ?? null
  if (a.alarm) o.log.error(a.alarm, { channel, delivery: row.id, status: a.httpStatus, error: err })
  if (a.outcome.status === 'retry') {
    const wait = backoffMs(row.attempts, o.delivery, a.outcome.rateLimited)
    await retryDelivery(db, row.id, a.httpStatus ?? null, err, wait)
    o.log.warn('delivery failed; will retry', {
      channel,
      delivery: row.id,
      attempt: row.attempts + 1,
      status: a.httpStatus,
      error: err,
      retryInMs: wait,
    })
  } else {
    await finishDelivery(db, row.id, a.outcome.status, a.httpStatus ?? null, err)
    if (a.outcome.status === 'rejected') {
      const why =
        a.label === 'refused'
          ? 'refused by the egress policy'
          : channel === 'email'
            ? 'rejected by the SMTP server (or unwritable): not retried'
            : 'rejected by receiver'
      o.log.error(`delivery ${why}`, { channel, delivery: row.id, status: a.httpStatus, error: err })
    }
  }
  if (row.incidentId) {
    const what = `${String(row.body.event_action)} ${a.label}${a.httpStatus ? ` (HTTP ${a.httpStatus})` : ''}`
    await addTimeline(db, row.incidentId, 'notification', `PagerDuty ${what}`, {
      delivery: row.id,
      error: err,
    })
  }
}

/** Drains every channel every `pollMs` until stopped; `kick()` drains at once. */
export function startDrainLoop(o: DeliveryOptions): { kick(): Promise<void>; stop(): Promise<void> } {
  let stopped = false
  let running: Promise<void> | undefined
  let timer: NodeJS.Timeout | undefined
  const pass = async () => {
    for (const channel of ['pagerduty', 'webhook', 'email'] as const) {
      await drainChannel(channel, o).catch((err) =>
        o.log.error('delivery drain failed', { channel, error: (err as Error).message }),
      )
    }
  }
  const kick = (): Promise<void> => {
    if (stopped) return Promise.resolve()
    running ??= pass().finally(() => {
      running = undefined
    })
    return running
  }
  const schedule = () => {
    if (stopped) return
    timer = setTimeout(() => {
      void kick().finally(schedule)
    }, o.delivery.pollMs)
    timer.unref()
  }
  schedule()
  return {
    kick,
    async stop() {
      stopped = true
      clearTimeout(timer)
      await running
    },
  }
}
