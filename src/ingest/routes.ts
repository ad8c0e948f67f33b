// POST /v1/events: external producers push telemetry. A 202 means the events are durable in the
// PostgreSQL outbox (the relay ships them to ClickHouse); re-sent eventIds are acknowledged again
// but stored once. Under pressure the route answers 429 (writes saturated) or 503 (the outbox is
// past its bound, e.g. ClickHouse has been down a long time) with Retry-After, never buffering
// without bound. The body is read by hand (not by the OpenAPI validator) because it may be NDJSON
// or gzip, and is read as a stream (body.ts) with each event checked as it arrives (admission.ts);
// its shape is still documented in /openapi.json. At most `maxConcurrentRequests` bodies are read
// at once: more get 429 with Retry-After instead of queueing, so memory stays bounded.
import { z } from '@hono/zod-openapi'
import { BackpressureError } from '../errors.ts'
import { createRouter, errorResponses, jsonContent, problems, security } from '../http/openapi.ts'
import { Admission, type ContractStarts, CUSTOMER_EVENT_TYPES, sourceOf } from './admission.ts'
import { readEvents } from './body.ts'
import type { IngestConfig } from './config.ts'
import { TelemetryEvent } from './events.ts'
import type { GroupCommitter } from './group-commit.ts'
import type { IngestMetrics } from './metrics.ts'
import type { OutboxLag } from './outbox.ts'

export interface IngestRouteDeps {
  config: IngestConfig['http']
  committer: GroupCommitter
  /** The outbox lag, cached briefly (the route must not count the outbox per request). */
  lag: () => Promise<OutboxLag>
  /** Contract starts of registered customers (tenants), for the operator's history. */
  contractStarts?: ContractStarts
  metrics?: IngestMetrics
  onWriteError: (err: unknown) => void
}

const Accepted = z
  .object({
    accepted: z.number().int().openapi({ description: 'Events in the batch, all durable now' }),
    duplicates: z
      .number()
      .int()
      .openapi({ description: 'Of those, eventIds already accepted earlier (stored once, not again)' }),
  })
  .openapi('EventsAccepted')

export function ingestRoutes(d: IngestRouteDeps) {
  const router = createRouter()
  router.openAPIRegistry.registerPath({
    method: 'post',
    path: '/events',
    tags: ['telemetry'],
    summary: 'Push telemetry events (JSON array or NDJSON, optionally gzip)',
    description:
      'The whole batch is validated first: a 400 names each bad event by index and field, and stores nothing. ' +
      'A 202 means every event is durable. Re-sending an eventId (within the dedup window) never double-counts. ' +
      `A customer token may only send ${CUSTOMER_EVENT_TYPES.join(', ')} events of its own customer ` +
      '(customerId defaults to it); anything else is a 403 naming the field. Event times are bounded ' +
      '(docs/telemetry.md); ids starting with "steward:" are reserved.',
    security,
    request: {
      body: {
        required: true,
        content: {
          'application/json': { schema: z.array(TelemetryEvent) },
          'application/x-ndjson': { schema: z.string().openapi({ description: 'One event per line' }) },
        },
      },
    },
    responses: {
      202: jsonContent(Accepted, 'Durable in the outbox'),
      ...errorResponses,
      ...problems('payload_too_large', 'unsupported_media_type', 'rate_limited', 'unavailable'),
    },
  })

  let reading = 0
  router.post('/events', async (c) => {
    const principal = c.var.principal
    if (reading >= d.config.maxConcurrentRequests) {
      d.metrics?.events.inc({ outcome: 'throttled' })
      throw new BackpressureError(
        'rate_limited',
        `${reading} event batches are being read already (at most ${d.config.maxConcurrentRequests} at once)`,
        1,
      )
    }
    reading++
    let events: ReturnType<Admission['result']>
    try {
      // Lag unknown (PostgreSQL unreachable): go on, the write itself will answer 503.
      const lag = await d.lag().catch(() => undefined)
      if (lag && lag.backlog >= d.config.maxBacklog) {
        d.metrics?.events.inc({ outcome: 'throttled' })
        throw new BackpressureError(
          'unavailable',
          `the telemetry backlog (${lag.backlog} events, oldest ${Math.round(lag.oldestAgeSeconds)} s) is past its bound; ClickHouse may be unavailable`,
          30,
        )
      }
      const admission = new Admission(principal, d.config)
      try {
        await readEvents(c.req.raw, c.req.header('content-type') ?? '', d.config, admission)
        await admission.checkHistory(d.contractStarts)
        events = admission.result()
      } catch (err) {
        d.metrics?.events.inc({ outcome: 'rejected' }, Math.max(1, admission.eventsRead))
        throw err
      }
    } finally {
      reading--
    }
    try {
      const r = await d.committer.submit(events, sourceOf(principal))
      d.metrics?.events.inc({ outcome: 'accepted' }, r.appended)
      if (r.duplicates) d.metrics?.events.inc({ outcome: 'duplicate' }, r.duplicates)
      return c.json({ accepted: events.length, duplicates: r.duplicates }, 202)
    } catch (err) {
      if (err instanceof BackpressureError) {
        d.metrics?.events.inc({ outcome: 'throttled' }, events.length)
        throw err
      }
      // PostgreSQL refused the write: nothing was stored; the producer should simply retry.
      d.onWriteError(err)
      throw new BackpressureError(
        'unavailable',
        'the events could not be stored right now; nothing was stored, retry',
        5,
      )
    }
  })
  return router
}
