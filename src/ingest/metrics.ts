// The ingest module's Prometheus metrics (names fixed by the cross-module contract).
import { Counter, Gauge, type Registry } from 'prom-client'
import type { OutboxLag } from './outbox.ts'

export interface IngestMetrics {
  shipped: Counter
  failures: Counter
  deadRows: Counter
  events: Counter<'outcome'>
}

/** Registers the ingest metrics; the gauges read `lag()` and `deadRows()` at scrape time. */
export function createIngestMetrics(
  registry: Registry,
  lag: () => Promise<OutboxLag>,
  deadRows: () => Promise<number>,
): IngestMetrics {
  let pending: Promise<OutboxLag> | undefined
  // Both gauges are scraped together: share one outbox query per scrape.
  const sample = () => {
    pending ??= lag().finally(() => setTimeout(() => (pending = undefined), 0))
    return pending
  }
  new Gauge({
    name: 'steward_outbox_backlog',
    help: 'Telemetry events in the PostgreSQL outbox not yet acknowledged by ClickHouse',
    registers: [registry],
    async collect() {
      this.set((await sample()).backlog)
    },
  })
  new Gauge({
    name: 'steward_outbox_oldest_age_seconds',
    help: 'Age of the oldest telemetry event waiting in the outbox (0 when empty)',
    registers: [registry],
    async collect() {
      this.set((await sample()).oldestAgeSeconds)
    },
  })
  new Gauge({
    name: 'steward_outbox_dead_rows',
    help: 'Outbox rows set aside in telemetry_outbox_dead (not valid events, or refused by ClickHouse) awaiting an operator',
    registers: [registry],
    async collect() {
      this.set(await deadRows())
    },
  })
  return {
    shipped: new Counter({
      name: 'steward_relay_shipped_total',
      help: 'Telemetry events the outbox relay shipped to ClickHouse (acknowledged)',
      registers: [registry],
    }),
    failures: new Counter({
      name: 'steward_relay_failures_total',
      help: 'Failed attempts of the outbox relay to ship a batch to ClickHouse',
      registers: [registry],
    }),
    deadRows: new Counter({
      name: 'steward_relay_dead_rows_total',
      help: 'Outbox rows the relay set aside in telemetry_outbox_dead (not valid events, or refused by ClickHouse)',
      registers: [registry],
    }),
    events: new Counter({
      name: 'steward_ingest_events_total',
      help: 'Events received by POST /v1/events by outcome (accepted, duplicate, rejected, throttled)',
      labelNames: ['outcome'] as const,
      registers: [registry],
    }),
  }
}
