// PagerDuty webhooks (v3): acknowledge/resolve done in PagerDuty is mirrored on the incident.
// Authenticated by `X-PagerDuty-Signature: v1=<hex HMAC-SHA256 of the raw body>` (several
// signatures may be listed during secret rotation), compared in constant time. A bad or missing
// signature is a 401 and changes nothing. Events for incidents we do not know are acknowledged
// with 200 and ignored, so PagerDuty does not retry them.
//
// Guarantees against replay (the signature covers the body, not the time it was sent):
// - an event whose signed `occurred_at` is older than `webhookMaxAgeSeconds` (or more than 5 minutes
//   ahead) is answered 'stale' and changes nothing;
// - an event id applied before is answered 'duplicate' and changes nothing. The id is recorded
//   after the event is applied, so an event whose processing failed is applied on PagerDuty's retry
//   (the actions are idempotent: a redelivery racing its original finds the incident 'unchanged').
import { createHmac, timingSafeEqual } from 'node:crypto'
import { createRoute, z } from '@hono/zod-openapi'
import type { Pool } from '../db/postgres.ts'
import { BadRequestError, UnauthorizedError } from '../errors.ts'
import { createRouter, jsonContent, problems } from '../http/openapi.ts'
import { mirrorPagerDuty } from './actions.ts'
import type { LifecycleContext } from './lifecycle.ts'
import { WebhookOutcome } from './schemas.ts'

export const WEBHOOK_PATH = '/v1/integrations/pagerduty/webhook'

export function verifyPagerDutySignature(
  secret: string,
  rawBody: string,
  header: string | undefined,
): boolean {
  if (!header) return false
  const expected = createHmac('sha256', secret).update(rawBody).digest()
  return header
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.startsWith('v1='))
    .some((s) => {
      const got = Buffer.from(s.slice(3), 'hex')
      return got.length === expected.length && timingSafeEqual(got, expected)
    })
}

const SQL = {
  seen: 'SELECT 1 FROM pagerduty_webhook_events WHERE event_id = $1',
  record: `INSERT INTO pagerduty_webhook_events (event_id, occurred_at) VALUES ($1, $2)
           ON CONFLICT (event_id) DO NOTHING`,
  prune: `DELETE FROM pagerduty_webhook_events WHERE received_at < now() - $1::int * interval '2 seconds'`,
}

/** How far ahead of our clock a signed `occurred_at` may be (PagerDuty's clock, ours). */
const FUTURE_SKEW_MS = 5 * 60_000

const WebhookBody = z.object({
  event: z.object({
    id: z.string().min(1).max(200),
    occurred_at: z.iso.datetime({ offset: true }),
    event_type: z.string(),
    data: z
      .object({
        id: z.string().optional(),
        incident_key: z.string().nullish(),
        status: z.string().optional(),
      })
      .passthrough(),
  }),
})

export function pagerDutyWebhookRoutes(opts: {
  pool: Pool
  secret: string | undefined
  /** The replay window (incidents.pagerduty.webhookMaxAgeSeconds). */
  maxAgeSeconds: number
  ctx: LifecycleContext
}) {
  const app = createRouter()
  const route = createRoute({
    method: 'post',
    path: WEBHOOK_PATH,
    tags: ['incidents'],
    summary: 'PagerDuty v3 webhook (signed with X-PagerDuty-Signature; no bearer token)',
    responses: {
      200: jsonContent(WebhookOutcome, 'Processed'),
      ...problems('bad_request', 'unauthorized', 'payload_too_large'),
    },
  })
  // The app's /v1 body limit applies; the app skips bearer auth under /v1/integrations/.
  app.openapi(route, async (c) => {
    const raw = await c.req.text()
    if (!opts.secret) throw new UnauthorizedError('PagerDuty webhook secret is not configured')
    if (!verifyPagerDutySignature(opts.secret, raw, c.req.header('x-pagerduty-signature'))) {
      throw new UnauthorizedError('X-PagerDuty-Signature does not match')
    }
    let parsed: z.infer<typeof WebhookBody>
    try {
      parsed = WebhookBody.parse(JSON.parse(raw))
    } catch {
      throw new BadRequestError(
        'body is not a PagerDuty v3 webhook event (event.id, event.occurred_at, event.event_type, event.data)',
      )
    }
    const { id, occurred_at: occurredAt, event_type: type, data } = parsed.event
    const age = Date.now() - Date.parse(occurredAt)
    if (age > opts.maxAgeSeconds * 1000 || age < -FUTURE_SKEW_MS)
      return c.json({ status: 'stale' as const }, 200)
    if ((await opts.pool.query(SQL.seen, [id])).rowCount) return c.json({ status: 'duplicate' as const }, 200)
    const key = data.incident_key
    const status = key ? await mirrorPagerDuty(opts.pool, key, type, data.id, opts.ctx) : 'ignored'
    await opts.pool.query(SQL.record, [id, occurredAt])
    await opts.pool.query(SQL.prune, [opts.maxAgeSeconds])
    return c.json({ status, incidentId: status === 'ignored' ? undefined : (key ?? undefined) }, 200)
  })
  return app
}
