// One job as GET /v1/jobs/{id} shows it, and why a blocked or queued job is not running yet.
//
// The explanation reads what the claim reads (claim.ts): the pool's live workers, the customer's
// weight and caps (the tenants' `customer_scheduling`, the documented exception, sql.ts), running
// and ready jobs per customer. It is a snapshot: by the time it is read the job may have started.
// Reasons, first that holds: dependencies not yet succeeded; the customer's hold on runs that
// have not started (customer-controls.ts); a retry's backoff; no live worker in
// the pool; the customer at a cap (its pool's, then its run's); else its place in the claim order.
import type { Queryable } from '../db/postgres.ts'
import { NotFoundError } from '../errors.ts'
import { attemptsOf } from './attempts.ts'
import { type AttemptRow, type JobRow, toJob } from './runs.ts'
import type { Job, Waiting } from './schemas.ts'
import { schedulingOf } from './sql.ts'

const SQL = {
  getJob: 'SELECT * FROM jobs WHERE id = $1',
  jobAttempts: attemptsOf('j.id = $1'),
  // The steps each blocked job waits for: its dependencies that have not succeeded.
  blockers: `
    SELECT j.id, array_agg(d.step_key ORDER BY d.step_key) AS steps
    FROM jobs j JOIN jobs d ON d.run_id = j.run_id AND d.step_key = ANY (j.depends_on) AND d.status <> 'succeeded'
    WHERE j.id = ANY ($1::text[]) AND j.status = 'blocked'
    GROUP BY j.id`,
  // Per queued job ($1), with workers live if they beat within $2 ms: whether its backoff still
  // runs, its pool's live workers, its customer's running jobs there and caps, its run's running
  // jobs, and its customer's ready jobs that the claim takes before it (priority, then age).
  queued: `
    SELECT q.id, q.pool, q.customer_id, q.run_at, q.run_at > now() AS later,
      (SELECT count(*) FROM workers w WHERE w.pool = q.pool AND w.status = 'live'
         AND w.last_heartbeat_at > now() - $2::int * interval '1 millisecond')::int AS live_workers,
      (SELECT count(*) FROM jobs r
       WHERE r.pool = q.pool AND r.customer_id = q.customer_id AND r.status = 'running')::int AS running,
      (SELECT count(*) FROM jobs r WHERE r.run_id = q.run_id AND r.status = 'running')::int AS run_running,
      (SELECT count(*) FROM jobs o
       WHERE o.pool = q.pool AND o.customer_id = q.customer_id AND o.status = 'queued' AND o.run_at <= now()
         AND (o.priority > q.priority OR (o.priority = q.priority AND (o.run_at, o.id) < (q.run_at, q.id))))::int
        AS own_ahead,
      coalesce(s.weight, 1)::float8 AS weight, (s.per_pool ->> q.pool)::int AS cap, s.per_run AS run_cap,
      h.hold_by, h.hold_detail, h.hold_since
    FROM jobs q LEFT JOIN ${schedulingOf('q.customer_id')} s ON true
      LEFT JOIN customer_controls h
        ON h.customer_id = q.customer_id AND h.hold_by IS NOT NULL
       AND EXISTS (SELECT 1 FROM runs u WHERE u.id = q.run_id AND u.status = 'queued')
    WHERE q.id = ANY ($1::text[]) AND q.status = 'queued'`,
  // Per customer with ready or running jobs in these pools ($1): the ready jobs a claim could take
  // (a run at its per-run cap holds its jobs back), the running ones, its weight and its cap.
  load: `
    WITH ready AS (
      SELECT pool, customer_id, run_id, count(*)::int AS n FROM jobs
      WHERE status = 'queued' AND run_at <= now() AND pool = ANY ($1::text[])
      GROUP BY pool, customer_id, run_id
    ), running AS (
      SELECT pool, customer_id, count(*)::int AS n FROM jobs
      WHERE status = 'running' AND pool = ANY ($1::text[]) GROUP BY pool, customer_id
    ), claimable AS (
      SELECT r.pool, r.customer_id,
             sum(CASE WHEN s.per_run IS NULL THEN r.n ELSE least(r.n, greatest(0, s.per_run -
                   (SELECT count(*) FROM jobs x WHERE x.run_id = r.run_id AND x.status = 'running'))) END)::int AS ready
      FROM ready r LEFT JOIN ${schedulingOf('r.customer_id')} s ON true
      GROUP BY r.pool, r.customer_id
    )
    SELECT l.*, coalesce(s.weight, 1)::float8 AS weight, (s.per_pool ->> l.pool)::int AS cap
    FROM (SELECT pool, customer_id, coalesce(c.ready, 0) AS ready, coalesce(u.n, 0) AS running
          FROM claimable c FULL JOIN running u USING (pool, customer_id)) l
    LEFT JOIN ${schedulingOf('l.customer_id')} s ON true`,
}

interface QueuedRow {
  id: string
  pool: string
  customer_id: string
  run_at: Date
  later: boolean
  live_workers: number
  running: number
  run_running: number
  own_ahead: number
  weight: number
  cap: number | null
  run_cap: number | null
  /** The customer's hold, when the job's run has not started (it keeps the job queued). */
  hold_by: string | null
  hold_detail: string | null
  hold_since: Date | null
}

interface LoadRow {
  pool: string
  customer_id: string
  ready: number
  running: number
  weight: number
  cap: number | null
}

/**
 * Ready jobs of other customers that fair share starts before a job whose customer's share would
 * then be `key` ((running + place) / weight): those whose own share would be no higher (at an
 * equal share priority and age decide; counted ahead), within their caps.
 */
function othersAhead(key: number, others: LoadRow[]): { jobs: number; customers: number } {
  let jobs = 0
  let customers = 0
  for (const o of others) {
    const room = o.cap === null ? o.ready : Math.max(0, Math.min(o.ready, o.cap - o.running))
    // Its n-th next job comes first when (running + n) / weight <= key (rounding aside).
    const n = Math.max(0, Math.min(room, Math.floor(key * o.weight - o.running + 1e-9)))
    jobs += n
    if (n > 0) customers++
  }
  return { jobs, customers }
}

function queuedReason(q: QueuedRow, load: LoadRow[]): Waiting {
  if (q.hold_by && q.hold_detail && q.hold_since)
    return { reason: 'paused', by: q.hold_by, since: q.hold_since.toISOString(), detail: q.hold_detail }
  if (q.later)
    return {
      reason: 'backoff',
      until: q.run_at.toISOString(),
      detail: `retrying after a failure: not before ${q.run_at.toISOString()}`,
    }
  if (q.live_workers === 0)
    return { reason: 'no_worker', pool: q.pool, detail: `no live worker serves pool "${q.pool}"` }
  if (q.cap !== null && q.running >= q.cap)
    return {
      reason: 'concurrency_cap',
      cap: 'perPool',
      limit: q.cap,
      running: q.running,
      detail: `the customer has ${q.running} jobs running in pool "${q.pool}", its cap there (concurrency.perPool)`,
    }
  if (q.run_cap !== null && q.run_running >= q.run_cap)
    return {
      reason: 'concurrency_cap',
      cap: 'perRun',
      limit: q.run_cap,
      running: q.run_running,
      detail: `its run has ${q.run_running} jobs running, the customer's cap per run (concurrency.perRun)`,
    }
  const others = othersAhead(
    (q.running + q.own_ahead + 1) / q.weight,
    load.filter((l) => l.pool === q.pool && l.customer_id !== q.customer_id),
  )
  const jobsAhead = q.own_ahead + others.jobs
  const customers = others.customers + (q.own_ahead > 0 ? 1 : 0)
  return {
    reason: 'queue',
    jobsAhead,
    customers,
    detail: jobsAhead
      ? `behind ${jobsAhead} ready jobs of ${customers} customer${customers === 1 ? '' : 's'} in pool "${q.pool}"`
      : `next in pool "${q.pool}": waiting for a free worker slot`,
  }
}

/** Why each blocked or queued job among `jobs` is not running (by job id; others are absent). */
export async function explainWaiting(
  db: Queryable,
  jobs: Pick<JobRow, 'id' | 'status'>[],
  liveAfterMs: number,
): Promise<Map<string, Waiting>> {
  const out = new Map<string, Waiting>()
  const blocked = jobs.filter((j) => j.status === 'blocked').map((j) => j.id)
  const queued = jobs.filter((j) => j.status === 'queued').map((j) => j.id)
  if (blocked.length) {
    const { rows } = await db.query<{ id: string; steps: string[] }>(SQL.blockers, [blocked])
    for (const r of rows)
      out.set(r.id, {
        reason: 'dependencies',
        steps: r.steps,
        detail: `waiting for ${r.steps.map((s) => `"${s}"`).join(', ')} to succeed`,
      })
  }
  if (queued.length) {
    const { rows } = await db.query<QueuedRow>(SQL.queued, [queued, liveAfterMs])
    const pools = [...new Set(rows.filter((q) => !q.later).map((q) => q.pool))]
    const load = pools.length ? (await db.query<LoadRow>(SQL.load, [pools])).rows : []
    for (const q of rows) out.set(q.id, queuedReason(q, load))
  }
  return out
}

/** One job with its attempts and why it is not running (NotFoundError when not `visible`). */
export async function getJob(
  db: Queryable,
  id: string,
  visible: (customerId: string) => boolean,
  liveAfterMs: number,
): Promise<Job> {
  const job = (await db.query<JobRow>(SQL.getJob, [id])).rows[0]
  if (!job || !visible(job.customer_id)) throw new NotFoundError(`job ${id}`)
  const [attempts, waiting] = await Promise.all([
    db.query<AttemptRow>(SQL.jobAttempts, [id]),
    explainWaiting(db, [job], liveAfterMs),
  ])
  return toJob(job, attempts.rows, waiting.get(id) ?? null)
}

/** The job with its explanation (for answers that build the job elsewhere: a retry). */
export async function withWaiting(db: Queryable, job: Job, liveAfterMs: number): Promise<Job> {
  const waiting = await explainWaiting(db, [{ id: job.jobId, status: job.status }], liveAfterMs)
  return { ...job, waiting: waiting.get(job.jobId) ?? null }
}
