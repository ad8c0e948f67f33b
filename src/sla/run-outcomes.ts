// The statements behind the run figures (runs.ts): each run's final outcome in a month, grouped by
// customer, outcome, failure class, canceller and run type, from the per-run rollup or, to check
// it, from raw `events` (docs/sla.md, "How each figure is computed — success rate" and
// "Performance").
//
// Both give the same rows for the same events, duplicates included: the raw statement judges every
// run from its events (read FINAL); the rollup reads one row per run and month (run_finals, FINAL)
// and judges one by one only the runs whose month row alone cannot tell (ClickHouse 047). Both end
// in the same grouping (`grouped`), so a figure is computed by one piece of SQL.
import type { FigureSource } from './schemas/figures.ts'

const FROM = `toDateTime64({from:UInt32}, 3, 'UTC')`
const TO = `toDateTime64({to:UInt32}, 3, 'UTC')`
const NOW = `fromUnixTimestamp64Milli({now:Int64}, 'UTC')`
const CUSTOMERS = 'customer_id IN {customers:Array(String)}'
const FINISHED = `action IN ('succeeded', 'failed', 'cancelled')`

/**
 * Each run's last final event from the month's start up to now (`where`: which rows of `from`).
 * argMax and max are the same over copies of an event, so `from` may hold copies.
 */
const lastEvents = (from: string, where: string) => `
  SELECT customer_id AS c, run_id AS r, max(ts) AS fin,
         argMax((action, error_class, cancelled_by, cancel_reason, run_type, duration_ms), ts) AS last
  FROM ${from}
  WHERE ${CUSTOMERS} AND ${where} AND ts >= ${FROM} AND ts < ${NOW}
  GROUP BY c, r`

/**
 * Runs judged one by one from `last` (lastEvents): counted when the last final event falls in the
 * month and after the run's last resume (`resumed`), timed from that resume when there is one.
 */
const judged = (last: string) => `
  SELECT f.c AS c, f.r AS r, f.fin AS fin, f.last.1 AS a, f.last.2 AS e, f.last.3 AS by, f.last.4 AS why,
         f.last.5 AS t,
         if(rs.r = '', f.last.6, toFloat64(toUnixTimestamp64Milli(f.fin) - toUnixTimestamp64Milli(rs.at))) AS active
  FROM (${last}) AS f
  LEFT JOIN resumed AS rs ON rs.c = f.c AND rs.r = f.r
  WHERE f.fin < ${TO} AND (rs.r = '' OR f.fin > rs.at)`

/**
 * Groups the counted runs (c, r, fin, a, e, by, why, t, active): runs, those within the run type's
 * target (looked up by "customer/runType"; customer ids cannot contain '/'), exact p50/p95/p99 of
 * the successes' active time, and the first 100 operator cancellations (time, run, reason).
 */
const grouped = (counted: string) => `
  SELECT c, a, e, by, t, n,
         arrayCount(x -> x <= transform(concat(c, '/', t), {keys:Array(String)}, {targets:Array(Float64)}, -1), ds) AS within,
         arrayReduce('quantilesExact(0.5, 0.95, 0.99)', ds) AS q,
         arrayMap(o -> (toString(o.1), o.2, o.3), arraySlice(arraySort(ops), 1, 100)) AS ops
  FROM (
    SELECT c, a, e, by, t, count() AS n, groupArrayIf(active, a = 'succeeded') AS ds,
           groupArrayIf((fin, r, why), a = 'cancelled' AND by = 'operator') AS ops
    FROM (${counted})
    GROUP BY c, a, e, by, t
  )`

// Every run straight from its raw events: the reference the rollup is checked against. A run with
// one final event from the month's start up to now, never resumed, counts there, timed by its
// durationMs; the others (several final events: failed then cancelled, finished again after the
// month; or resumed) are judged one by one. Which runs have several is found by a hash of the run:
// a collision only sends a run to be judged, which gives the same answer.
const RUN_HASH = 'cityHash64(customer_id, run_id)'
const RAW = `
  WITH resumed AS (
    SELECT customer_id AS c, run_id AS r, max(ts) AS at FROM events
    WHERE ${CUSTOMERS} AND type = 'run' AND action = 'resumed' AND ts < ${NOW}
    GROUP BY c, r
  ),
  several AS (
    SELECT ${RUN_HASH} AS h FROM events FINAL
    WHERE ${CUSTOMERS} AND type = 'run' AND ${FINISHED} AND ts >= ${FROM} AND ts < ${NOW}
    GROUP BY h HAVING count() > 1
  )
  ${grouped(`
    SELECT customer_id AS c, run_id AS r, ts AS fin, action AS a, error_class AS e, cancelled_by AS by,
           cancel_reason AS why, run_type AS t, duration_ms AS active
    FROM events FINAL
    WHERE ${CUSTOMERS} AND type = 'run' AND ${FINISHED} AND ts >= ${FROM} AND ts < ${TO}
      AND ${RUN_HASH} NOT IN several AND (customer_id, run_id) NOT IN (SELECT c, r FROM resumed)
    UNION ALL
    ${judged(
      lastEvents(
        'events FINAL',
        `type = 'run' AND ${FINISHED} AND (${RUN_HASH} IN several OR (customer_id, run_id) IN (SELECT c, r FROM resumed))`,
      ),
    )}`)}`

// One row per run and month (run_finals: its last final event of the month, copies collapsed):
// a run's row of the month is its final outcome, timed by its durationMs, unless
// - it has a final event after the month, up to now (`later`): its outcome is later, not counted;
// - it has a final event after now (`ahead`: a past `now`, or telemetry dated ahead): its month
//   row may hide the events before now, so it is judged from its raw events;
// - it was resumed (`resumed`): judged from its month rows, timed from its last resume.
// These sets are small; an empty one costs nothing (the scalar guards fold before rows are read).
const unless = (set: string) =>
  `((SELECT count() FROM ${set}) = 0 OR (customer_id, run_id) NOT IN (SELECT c, r FROM ${set}))`
const ROLLUP = `
  WITH resumed AS (
    SELECT customer_id AS c, run_id AS r, max(ts) AS at FROM run_resumes
    WHERE ${CUSTOMERS} AND ts < ${NOW}
    GROUP BY c, r
  ),
  later AS (SELECT DISTINCT customer_id AS c, run_id AS r FROM run_finals WHERE ${CUSTOMERS} AND ts >= ${TO} AND ts < ${NOW}),
  ahead AS (SELECT DISTINCT customer_id AS c, run_id AS r FROM run_finals WHERE ${CUSTOMERS} AND ts >= ${NOW})
  ${grouped(`
    SELECT customer_id AS c, run_id AS r, ts AS fin, action AS a, error_class AS e, cancelled_by AS by,
           cancel_reason AS why, run_type AS t, duration_ms AS active
    FROM run_finals FINAL
    WHERE ${CUSTOMERS} AND ts >= ${FROM} AND ts < ${TO} AND ${unless('later')} AND ${unless('ahead')} AND ${unless('resumed')}
    UNION ALL
    ${judged(
      lastEvents(
        'run_finals FINAL',
        `(customer_id, run_id) IN (SELECT c, r FROM resumed) AND ${unless('later')} AND ${unless('ahead')}`,
      ),
    )}
    UNION ALL
    ${judged(
      lastEvents(
        'events',
        `(SELECT count() FROM ahead) > 0 AND type = 'run' AND ${FINISHED} AND (customer_id, run_id) IN (SELECT c, r FROM ahead) AND ${unless('later')}`,
      ),
    )}`)}`

/** The outcome statement of each figure source; parameters: customers, from, to, now, keys, targets. */
export const OUTCOMES: Record<FigureSource, string> = { rollup: ROLLUP, raw: RAW }
