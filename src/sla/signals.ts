// What ClickHouse says of each minute of a span, for the factory and for each customer: nothing, up
// or down (docs/sla.md, "How each figure is computed: uptime" and "provenance of signals").
//
// - The factory (customer ''): down when its probes failed by the quorum (sla.probeQuorum: every
//   region that probed, or more than half) even while the process heartbeats; else up with a
//   healthy control-plane heartbeat or probes that passed; down with only unhealthy signals.
// - A customer's own probes, judged by the same quorum three ways: Steward's and the operator's
//   (facts), the customer's own (evidence), and both pooled (what counts when its plan opts in).
// - A heartbeat counts only for the factory, and only when Steward or the operator said it.
//
// The verdicts are computed in ClickHouse, over the health_1m rollup or (to check it) raw events,
// by one piece of SQL, and arrive as one row per subject: the minutes that had a signal and their
// verdicts, so a month of minutes is two arrays, not 44,640 rows to parse.
import type { ClickHouseClient } from '../db/clickhouse.ts'
import { chQuery } from '../db/clickhouse.ts'
import type { Span } from './months.ts'
import type { FigureSource } from './schemas/figures.ts'

/** What ClickHouse says of a minute: nothing, up, or down. */
export const SIGNAL = { none: 0, up: 1, down: 2 } as const

/** When probes of several regions fail the factory: every region that probed, or more than half. */
type ProbeQuorum = 'all' | 'majority'

/** A customer's own probes per minute (SIGNAL), by who sent them. */
interface OwnProbes {
  /** The operator's and Steward's probes of the customer's endpoints: facts. */
  trusted: Uint8Array
  /** The customer's own probes (sent with its token): evidence. */
  reported: Uint8Array
  /** Both pooled (what counts when the customer's plan opts in to its own probes). */
  pooled: Uint8Array
}

export interface MinuteSignals {
  /** The factory's signal per minute (SIGNAL). */
  factory: Uint8Array
  /** Customers with probes of their own in the span (the others have none). */
  customers: Map<string, OwnProbes>
}

// Health signals per (minute, subject, type, provenance, region): healthy and unhealthy counts.
const SOURCES: Record<FigureSource, string> = {
  rollup: `
    SELECT minute AS m, customer_id AS c, type AS t, provenance AS p, region AS r, healthy AS h, unhealthy AS u
    FROM health_1m
    WHERE minute >= toDateTime({from:UInt32}, 'UTC') AND minute < toDateTime({to:UInt32}, 'UTC')
      AND customer_id IN {customers:Array(String)}
      AND (type = 'probe' OR component = 'control_plane')`,
  // The same signals straight from raw events (benchmark reference and cross-check).
  raw: `
    SELECT toStartOfMinute(ts) AS m, customer_id AS c, type AS t, source AS p,
           if(type = 'probe', region, '') AS r, toUInt64(ok = 1) AS h, toUInt64(ok = 0) AS u
    FROM events FINAL
    WHERE type IN ('heartbeat', 'probe')
      AND ts >= toDateTime64({from:UInt32}, 3, 'UTC') AND ts < toDateTime64({to:UInt32}, 3, 'UTC')
      AND customer_id IN {customers:Array(String)}
      AND (type = 'probe' OR component = 'control_plane')`,
}

// A region failed when it probed and no probe of it passed. `verdict(x)`: SIGNAL from the regions
// that probed (x_n) and failed (x_f) under the quorum.
const verdict = (x: string) =>
  `if(${x}_n = 0, 0, if(if({majority:UInt8}, ${x}_f * 2 > ${x}_n, ${x}_f = ${x}_n), 2, 1))`
const trusted = `p != 'customer'`

/**
 * One row per subject: the minute index (from the span's start) of each minute with a signal, and
 * its verdict: for the factory its SIGNAL; for a customer trusted + 3 × reported + 9 × pooled.
 */
const VERDICTS = (source: string) => `
  SELECT c, groupArray(i) AS i, groupArray(v) AS v
  FROM (
    SELECT c, toUInt32(intDiv(toUInt32(m) - {from:UInt32}, 60)) AS i,
           sum(f_has) AS f_n, sum(f_has AND NOT f_ok) AS f_f,
           sum(t_has) AS t_n, sum(t_has AND NOT t_ok) AS t_f,
           sum(p_has) AS p_n, sum(p_has AND NOT p_ok) AS p_f,
           max(b_ok) AS beat_ok, max(b_bad) AS beat_bad,
           if(c = '',
              multiIf(${verdict('f')} = 2, 2, beat_ok OR ${verdict('f')} = 1, 1, beat_bad, 2, 0),
              ${verdict('f')} + 3 * ${verdict('t')} + 9 * ${verdict('p')}) AS v
    FROM (
      SELECT m, c, r,
             max(t = 'probe' AND ${trusted}) AS f_has, max(t = 'probe' AND ${trusted} AND h > 0) AS f_ok,
             max(t = 'probe' AND NOT ${trusted}) AS t_has, max(t = 'probe' AND NOT ${trusted} AND h > 0) AS t_ok,
             max(t = 'probe') AS p_has, max(t = 'probe' AND h > 0) AS p_ok,
             max(t = 'heartbeat' AND ${trusted} AND h > 0) AS b_ok,
             max(t = 'heartbeat' AND ${trusted} AND u > 0) AS b_bad
      FROM (${source})
      GROUP BY m, c, r
    )
    GROUP BY c, m
  )
  GROUP BY c`

const SQL: Record<FigureSource, string> = { rollup: VERDICTS(SOURCES.rollup), raw: VERDICTS(SOURCES.raw) }

/** Loads the span's per-minute signals of the factory and of `customerIds`. */
export async function loadMinuteSignals(
  ch: ClickHouseClient,
  span: Span,
  customerIds: string[],
  opts: { source?: FigureSource; quorum?: ProbeQuorum } = {},
): Promise<MinuteSignals> {
  const rows = await chQuery<{ c: string; i: number[]; v: number[] }>(ch, SQL[opts.source ?? 'rollup'], {
    from: span.start.getTime() / 1000,
    to: span.end.getTime() / 1000,
    customers: ['', ...customerIds],
    majority: opts.quorum === 'majority' ? 1 : 0,
  })
  const factory = new Uint8Array(span.minutes)
  const customers = new Map<string, OwnProbes>()
  const wanted = new Set(customerIds)
  for (const { c, i, v } of rows) {
    if (c === '') {
      for (let k = 0; k < i.length; k++) factory[i[k]!] = v[k]!
      continue
    }
    if (!wanted.has(c)) continue
    const mine = {
      trusted: new Uint8Array(span.minutes),
      reported: new Uint8Array(span.minutes),
      pooled: new Uint8Array(span.minutes),
    }
    customers.set(c, mine)
    for (let k = 0; k < i.length; k++) {
      const x = v[k]!
      mine.trusted[i[k]!] = x % 3
      mine.reported[i[k]!] = Math.floor(x / 3) % 3
      mine.pooled[i[k]!] = Math.floor(x / 9)
    }
  }
  return { factory, customers }
}
