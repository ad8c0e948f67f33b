// The statements behind the run figures (runs.ts): each run's final outcome in a month, grouped by
// customer, outcome, failure class, canceller and run type (docs/sla.md, "How each figure is
// computed — success rate" and "Performance").
//
// From the per-run rollup, or from raw `events` to check it. Both give the same rows for the same
// events, copies of an event included, and share the SQL that judges a run and groups the runs.
import type { FigureSource } from './schemas/figures.ts'

const FROM = `toDateTime64({from:UInt32}, 3, 'UTC')`
const TO = `toDateTime64({to:UInt32}, 3, 'UTC')`
const NOW = `fromUnixTimestamp64Milli({now:Int64}, 'UTC')`
const CUSTOMERS = 'customer_id IN {customers:Array(String)}'
const FINISHED = `action IN ('succeeded', 'failed', 'cancelled')`
const RUN = '(customer_id, run_id)'

/**
 * Where final events are read (`from`, `where`), and per row: `outcome` ('action|errorClass|
 * cancelledBy|runType', one grouping key, injective since only the run type, last, may hold a
 * '|'), `target` ('customerId/runType', customer ids cannot contain '/': the key of the run type's
 * target) and `order` (which of a run's final events is the last: its time, then on raw events the
 * later insert, as the rollup keeps it).
 */
interface Finals {
  from: string
  where: string
  outcome: string
  target: string
  order: string
}

const RAW_FINALS: Omit<Finals, 'from'> = {
  where: `type = 'run' AND ${FINISHED}`,
  outcome: `concat(action, '|', error_class, '|', cancelled_by, '|', run_type)`,
  target: `concat(customer_id, '/', run_type)`,
  order: '(ts, inserted_at)',
}
const ROLLUP_FINALS: Finals = {
  from: 'run_finals FINAL',
  where: '1',
  outcome: 'outcome',
  target: 'target_key',
  order: 'ts',
}

/** `run NOT IN set`, costing nothing when the set is empty (the scalar folds before rows are read). */
const unless = (set: string, key = RUN, columns = 'c, r') =>
  `((SELECT count() FROM ${set}) = 0 OR ${key} NOT IN (SELECT ${columns} FROM ${set}))`
const among = (set: string) => `${RUN} IN (SELECT c, r FROM ${set})`
/** Whether any of `sets` holds a run (a scalar, known before any row is read). */
const anyIn = (...sets: string[]) => `${sets.map((set) => `(SELECT count() FROM ${set})`).join(' + ')} > 0`

/**
 * Each run's last final event from the month's start up to now, among the runs `where` keeps.
 * While `live` is false the time range is empty, so nothing is read: a filter on run ids alone
 * would not spare reading the month of raw events, whose key does not start with the run.
 */
const lastEvents = (f: Finals, where: string, live: string) => `
  SELECT customer_id AS c, run_id AS r, max(ts) AS fin,
         argMax((${f.outcome}, cancel_reason, ${f.target}, duration_ms), ${f.order}) AS last
  FROM ${f.from}
  WHERE ${CUSTOMERS} AND ${f.where} AND ${where} AND ts >= ${FROM} AND ts < if(${live}, ${NOW}, ${FROM})
  GROUP BY c, r`

/**
 * Runs judged one by one (`where` keeps them; none while `live` is false) at their last final
 * event: counted when it falls in the month, timed by its durationMs; for a resumed run
 * (`resumed`), only when it also comes after the last resume, timed from that resume.
 */
const judged = (f: Finals, where: string, live: string) => `
  SELECT f.c AS c, f.r AS r, f.fin AS fin, f.last.1 AS o, f.last.2 AS why, f.last.3 AS k,
         if(f.at = 0, f.last.4, toFloat64(toUnixTimestamp64Milli(f.fin) - f.at)) AS active
  FROM (
    SELECT *, transform(concat(c, '/', r), resumes.1, resumes.2, toInt64(0)) AS at
    FROM (${lastEvents(f, where, live)})
  ) AS f
  WHERE f.fin < ${TO} AND (f.at = 0 OR toUnixTimestamp64Milli(f.fin) > f.at)`

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

/** A run's final event as a counted row, timed by its durationMs. */
const rowOf = (f: Pick<Finals, 'outcome' | 'target'>) =>
  `customer_id AS c, run_id AS r, ts AS fin, ${f.outcome} AS o, cancel_reason AS why, ${f.target} AS k, duration_ms AS active`

// Each resumed run's last resume up to now (`resumed`), and the same as a lookup (`resumes`: keys
// 'customerId/runId', injective since customer ids cannot contain '/', and times in ms).
const resumedFrom = (from: string, where: string) => `
  resumed AS (
    SELECT customer_id AS c, run_id AS r, max(ts) AS at FROM ${from}
    WHERE ${CUSTOMERS} AND ${where} AND ts < ${NOW}
    GROUP BY c, r
  ),
  (SELECT tuple(groupArray(concat(c, '/', r)), groupArray(toUnixTimestamp64Milli(at))) FROM resumed) AS resumes`

// Raw events, the reference: a run with one final event from the month's start up to now, never
// resumed, counts at that event (one pass over the month's final events); the others (several
// final events: failed then cancelled, finished again after the month) and resumed runs are
// judged one by one. Runs with several are found by a hash of the run: a collision only sends a
// run to be judged, which gives the same answer.
const RAW_HASH = 'cityHash64(customer_id, run_id)'
const RAW = `
  WITH ${resumedFrom('events', `type = 'run' AND action = 'resumed'`)},
  several AS (
    SELECT ${RAW_HASH} AS h FROM events FINAL
    WHERE ${CUSTOMERS} AND ${RAW_FINALS.where} AND ts >= ${FROM} AND ts < ${NOW}
    GROUP BY h HAVING count() > 1
  )
  ${grouped(`
    SELECT ${rowOf(RAW_FINALS)}
    FROM events FINAL
    WHERE ${CUSTOMERS} AND ${RAW_FINALS.where} AND ts >= ${FROM} AND ts < ${TO}
      AND ${unless('several', RAW_HASH, 'h')} AND ${unless('resumed')}
    UNION ALL
    ${judged(
      { from: 'events FINAL', ...RAW_FINALS },
      `(${RAW_HASH} IN (SELECT h FROM several) OR ${among('resumed')})`,
      anyIn('several', 'resumed'),
    )}`)}`

// The rollup, run_finals (ClickHouse 047): per run and month, its last final event of the month
// (read FINAL: copies and earlier events of the month collapse into it). That row is the run's
// final outcome, timed by its durationMs, unless the run
// - finished again after the month, up to now (`later`): its outcome is later, not counted here;
// - has a final event after now (`ahead`: a past `now`, or telemetry dated ahead): its month row
//   may hide the events before now, so it is judged from its raw events;
// - was resumed (run_resumes): judged from its month rows, timed from its last resume.
const ROLLUP_SETS = `
  WITH ${resumedFrom('run_resumes', '1')},
  later AS (SELECT DISTINCT customer_id AS c, run_id AS r FROM run_finals WHERE ${CUSTOMERS} AND ts >= ${TO} AND ts < ${NOW}),
  ahead AS (SELECT DISTINCT customer_id AS c, run_id AS r FROM run_finals WHERE ${CUSTOMERS} AND ts >= ${NOW})`
const EXCEPTIONAL = anyIn('resumed', 'later', 'ahead')
const ROLLUP = `${ROLLUP_SETS}
  ${grouped(`
    SELECT ${rowOf(ROLLUP_FINALS)}
    FROM run_finals FINAL
    WHERE ${CUSTOMERS} AND ts >= ${FROM} AND ts < ${TO} AND ${unless('later')} AND ${unless('ahead')}
      AND ${unless('resumed')}
    UNION ALL
    ${judged(ROLLUP_FINALS, `${among('resumed')} AND ${unless('later')} AND ${unless('ahead')}`, anyIn('resumed'))}
    UNION ALL
    ${judged({ from: 'events', ...RAW_FINALS }, `${among('ahead')} AND ${unless('later')}`, anyIn('ahead'))}`)}`

/** The outcome statement of each figure source; parameters: customers, from, to, now, keys, targets. */
export const OUTCOMES: Record<FigureSource, string> = { rollup: ROLLUP, raw: RAW }

/**
 * The rollup when no run of the month needs judging one by one (none resumed, finished again
 * after the month or with an event after now: a month without resumes): its month rows alone give
 * the figures. `exceptional` says whether that holds; `plain` gives the figures with the same
 * answer in every row, from the statement's own snapshot (an exception that arrived in between
 * sends the caller to OUTCOMES.rollup).
 */
export const PLAIN_ROLLUP = {
  exceptional: `${ROLLUP_SETS} SELECT ${EXCEPTIONAL} AS exceptional`,
  plain: `${ROLLUP_SETS}
    SELECT *, ${EXCEPTIONAL} AS exceptional FROM (${grouped(`
      SELECT ${rowOf(ROLLUP_FINALS)} FROM run_finals FINAL
      WHERE ${CUSTOMERS} AND ts >= ${FROM} AND ts < ${TO}`)})`,
}
