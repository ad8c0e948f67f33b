// The statement behind the run figures (runs.ts): each run's final outcome in a month, grouped by
// customer, outcome, failure class, canceller and run type (docs/sla.md, "How each figure is
// computed — success rate" and "Performance").
//
// One piece of SQL over either source: the per-run rollup, or raw `events` to check it. Both give
// the same rows for the same events, copies of an event included.
import type { FigureSource } from './schemas/figures.ts'

const FROM = `toDateTime64({from:UInt32}, 3, 'UTC')`
const TO = `toDateTime64({to:UInt32}, 3, 'UTC')`
const NOW = `fromUnixTimestamp64Milli({now:Int64}, 'UTC')`
const CUSTOMERS = 'customer_id IN {customers:Array(String)}'
const FINISHED = `action IN ('succeeded', 'failed', 'cancelled')`

/** Where final and resume events are read: `from` and `where` of a FROM clause. */
interface Source {
  from: string
  where: string
}

/**
 * Final events also give, per row, `outcome` ('action|errorClass|cancelledBy|runType': one
 * grouping key, injective since only the run type, last, may hold a '|'), `target`
 * ('customerId/runType', customer ids cannot contain '/': the key of the run type's target) and
 * `hash` (cityHash64(customer_id, run_id): which runs have several rows).
 */
interface Finals extends Source {
  outcome: string
  target: string
  hash: string
}

/**
 * Each run's last final event from the month's start up to now (`where`: which rows). argMax and
 * max are the same over copies of an event, so the rows may hold copies.
 */
const lastEvents = (f: Finals, where: string) => `
  SELECT customer_id AS c, run_id AS r, max(ts) AS fin,
         argMax((${f.outcome}, cancel_reason, ${f.target}, duration_ms), ts) AS last
  FROM ${f.from}
  WHERE ${CUSTOMERS} AND ${f.where} AND ${where} AND ts >= ${FROM} AND ts < ${NOW}
  GROUP BY c, r`

/** A run's last final event (`f`, from lastEvents) as a counted row, `active` its active time. */
const counted = (active: string) =>
  `f.c AS c, f.r AS r, f.fin AS fin, f.last.1 AS o, f.last.2 AS why, f.last.3 AS k, ${active} AS active`

const SUCCEEDED = `startsWith(o, 'succeeded|')`
const BY_OPERATOR = `match(o, '^cancelled\\\\|[^|]*\\\\|operator\\\\|')`

/**
 * Groups the counted runs (c, r, fin, o: outcome, why, k: target key, active): runs, those within
 * their run type's target, exact p50/p95/p99 of the successes' active time, and the first 100
 * operator cancellations (time, run, reason). On the rollup `o` and `k` are LowCardinality, so the
 * tests on them run once per distinct value, not per row.
 */
const grouped = (counted: string) => `
  SELECT c, splitByChar('|', o)[1] AS a, splitByChar('|', o)[2] AS e, splitByChar('|', o)[3] AS by,
         arrayStringConcat(arraySlice(splitByChar('|', o), 4), '|') AS t, n, within, q, ops
  FROM (
    SELECT c, o, count() AS n,
           countIf(${SUCCEEDED} AND active <= transform(k, {keys:Array(String)}, {targets:Array(Float64)}, -1)) AS within,
           quantilesExactIf(0.5, 0.95, 0.99)(active, ${SUCCEEDED}) AS q,
           arrayMap(x -> (toString(x.1), x.2, x.3),
                    arraySlice(arraySort(groupArrayIf((fin, r, why), ${BY_OPERATOR})), 1, 100)) AS ops
    FROM (${counted})
    GROUP BY c, o
  )`

/** `key NOT IN set`, costing nothing when the set is empty (the scalar folds before rows are read). */
const unless = (set: string, key: string, columns: string) =>
  `((SELECT count() FROM ${set}) = 0 OR ${key} NOT IN (SELECT ${columns} FROM ${set}))`

/**
 * A run with one final event from the month's start up to now, never resumed, counts at that event
 * (if it is in the month), timed by its durationMs: one pass over the month's final events. The
 * few others are judged one by one at their last final event (lastEvents): runs with several
 * (failed then cancelled; finished again after the month; copies of an event not yet merged
 * away), counted when it falls in the month; and resumed runs, counted when it also comes after
 * the last resume, timed from that resume. Which runs have several is found by a hash of the run:
 * a collision only sends a run to be judged, which gives the same answer.
 */
const outcomes = (finals: Finals, resumes: Source) => `
  WITH resumed AS (
    SELECT customer_id AS c, run_id AS r, max(ts) AS at FROM ${resumes.from}
    WHERE ${CUSTOMERS} AND ${resumes.where} AND ts < ${NOW}
    GROUP BY c, r
  ),
  several AS (
    SELECT ${finals.hash} AS h FROM ${finals.from}
    WHERE ${CUSTOMERS} AND ${finals.where} AND ts >= ${FROM} AND ts < ${NOW}
    GROUP BY h HAVING count() > 1
  )
  ${grouped(`
    SELECT customer_id AS c, run_id AS r, ts AS fin, ${finals.outcome} AS o, cancel_reason AS why,
           ${finals.target} AS k, duration_ms AS active
    FROM ${finals.from}
    WHERE ${CUSTOMERS} AND ${finals.where} AND ts >= ${FROM} AND ts < ${TO}
      AND ${unless('several', finals.hash, 'h')} AND ${unless('resumed', '(customer_id, run_id)', 'c, r')}
    UNION ALL
    SELECT ${counted('f.last.4')}
    FROM (${lastEvents(
      finals,
      `(SELECT count() FROM several) > 0 AND ${finals.hash} IN (SELECT h FROM several)
       AND ${unless('resumed', '(customer_id, run_id)', 'c, r')}`,
    )}) AS f
    WHERE f.fin < ${TO}
    UNION ALL
    SELECT ${counted('toFloat64(toUnixTimestamp64Milli(f.fin) - toUnixTimestamp64Milli(rs.at))')}
    FROM (${lastEvents(
      finals,
      '(SELECT count() FROM resumed) > 0 AND (customer_id, run_id) IN (SELECT c, r FROM resumed)',
    )}) AS f
    INNER JOIN resumed AS rs ON rs.c = f.c AND rs.r = f.r
    WHERE f.fin < ${TO} AND f.fin > rs.at`)}`

/**
 * The outcome statement of each figure source; parameters: customers, from, to, now, keys, targets.
 * - rollup: the per-run rollup (ClickHouse 047: run_finals, one row per final event, sorted by run,
 *   with its outcome and target keys; run_resumes), read without FINAL: copies are judged like
 *   several events, so its merges only shrink it;
 * - raw: the raw events (final events read FINAL), the reference the rollup is checked against.
 */
export const OUTCOMES: Record<FigureSource, string> = {
  rollup: outcomes(
    { from: 'run_finals', where: '1', outcome: 'outcome', target: 'target_key', hash: 'run_hash' },
    { from: 'run_resumes', where: '1' },
  ),
  raw: outcomes(
    {
      from: 'events FINAL',
      where: `type = 'run' AND ${FINISHED}`,
      outcome: `concat(action, '|', error_class, '|', cancelled_by, '|', run_type)`,
      target: `concat(customer_id, '/', run_type)`,
      hash: 'cityHash64(customer_id, run_id)',
    },
    { from: 'events', where: `type = 'run' AND action = 'resumed'` },
  ),
}
