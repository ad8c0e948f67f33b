// The ClickHouse tables the outbox ships to (docs/telemetry.md, "OTLP receiver"): `events` (a
// telemetry event per row, mapped by rows.ts) and the OpenTelemetry tables of
// schemas/clickhouse/060_otel.sql (a row already in the table's shape, written by the OTLP
// receiver). Here an outbox row becomes the row its table takes, with the partition it lands in
// (the relay never puts more than `maxPartitionsPerInsert` partitions in one insert), or the reason
// it cannot (it is then set aside in telemetry_outbox_dead).
import { TelemetryEvent } from './events.ts'
import type { EventSource } from './rows.ts'
import { toRow } from './rows.ts'

export const OTEL_TABLES = [
  'otel_traces',
  'otel_logs',
  'otel_metrics_sum',
  'otel_metrics_gauge',
  'otel_metrics_histogram',
] as const
export type OtelTable = (typeof OTEL_TABLES)[number]

/** Every table an outbox row may name (telemetry_outbox.target), in the order a batch sends them. */
export const OUTBOX_TARGETS = ['events', ...OTEL_TABLES] as const
export type OutboxTarget = (typeof OUTBOX_TARGETS)[number]

/** The time column of each OpenTelemetry table: its day is the row's partition. */
const TIME_COLUMN: Record<OtelTable, string> = {
  otel_traces: 'Timestamp',
  otel_logs: 'Timestamp',
  otel_metrics_sum: 'TimeUnix',
  otel_metrics_gauge: 'TimeUnix',
  otel_metrics_histogram: 'TimeUnix',
}

/** ClickHouse DateTime64 text in UTC, as chTime and chTimeNanos write it. */
const CH_TIME = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(\.\d{1,9})?$/

/** A row as its table takes it (JSONEachRow). */
export type TableRow = object

export type MappedRow = { ok: true; row: TableRow; partition: string } | { ok: false; error: string }

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v)

/**
 * The row `body` (an outbox row of `target`, said by `source` for `customerId`) is in its table,
 * and its partition: the month of an event (`events` is partitioned by month), the day of an
 * OpenTelemetry row (those tables are partitioned by day, as the collector's exporter makes them).
 */
export function tableRow(
  target: OutboxTarget,
  body: unknown,
  source: EventSource,
  customerId: string,
): MappedRow {
  if (target === 'events') {
    const r = TelemetryEvent.safeParse(body)
    if (!r.success)
      return { ok: false, error: r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ') }
    const row = toRow(r.data, source)
    // `YYYY-MM` of the time text (a year written with a sign keeps it).
    return { ok: true, row, partition: row.ts.slice(0, row.ts.indexOf('-', 1) + 3) }
  }
  const column = TIME_COLUMN[target]
  if (!isObject(body)) return { ok: false, error: `not an object: a row of ${target} is one` }
  if (typeof body[column] !== 'string' || !CH_TIME.test(body[column]))
    return { ok: false, error: `${column}: not a ClickHouse DateTime64 text (YYYY-MM-DD hh:mm:ss.nnnnnnnnn)` }
  return {
    ok: true,
    row: { ...body, CustomerId: customerId, Source: source },
    partition: (body[column] as string).slice(0, 10),
  }
}
