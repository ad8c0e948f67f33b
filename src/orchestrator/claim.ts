// Claiming jobs: which ready jobs of a pool a worker takes next, across customers by weighted fair
// share, then priority, then age.
//
// Guarantees:
// - fair share: a claim walks the customers with ready jobs in the pool and hands each free slot
//   to the customer with the fewest running jobs relative to its weight (`schedulingWeight`,
//   equal by default), counting the slots already handed out; between customers at the same
//   share, higher priority first, then the oldest job. Inside one customer, priority then age;
// - a job is claimed by one worker at a time (FOR UPDATE SKIP LOCKED); one claim takes up to the
//   worker's free slots, starts their attempts and marks their runs started;
// - caps (`concurrency.perPool[pool]`, `concurrency.perRun`) are never exceeded, whatever the
//   number of workers and processes: the jobs of a customer with a cap are claimed only under that
//   customer's advisory lock (held to commit), by a statement that starts after the lock was
//   taken, so it counts every running job of every earlier claim. Only claims raise a running
//   count; every other transition lowers it. Customers without caps never take the lock;
// - a customer's hold (customer-controls.ts) keeps the jobs of its runs that have not started out
//   of every claim; jobs of its started runs are claimed as usual;
// - a cap applies to claims that start after the settings change committed (jobs already running
//   above a lowered cap finish; no new one starts until the customer is under it).
//
// The settings come from `customer_scheduling`, the tenants' copy of each customer's weight and
// caps, read here in SQL: the documented exception to "a table is read only through its owning
// module" (docs/architecture.md).
import type { Pool, PoolClient } from '../db/postgres.ts'
import { stewardOutboxCtes } from '../ingest/index.ts'
import { jobEventSql, runEventSql } from './events.ts'
import { retrying, retryingTransaction } from './settle.ts'
import { prepared, runKeyed, schedulingOf } from './sql.ts'
import type { ClaimedJob } from './types.ts'

const JOB_COLUMNS = `j.id, j.run_id, j.customer_id, j.project_id, j.run_type, j.step_key, j.kind, j.pool, j.input,
  j.fallback, j.using_fallback, j.attempt, j.failures, j.reclaims, j.max_attempts, j.backoff_ms, j.timeout_ms, j.checkpoint,
  j.has_dependents`

/** Advisory lock namespace (first key) of the per-customer claim lock; the second is hashtext(customer). */
const CAP_LOCK = 0x5374_7764 // 'Stwd'

/**
 * The candidates of a claim, ranked, after a CTE `cust` of the customers to consider (a skip scan
 * of the ready index, or the locked ones). Per customer: its weight and caps (its own row of
 * customer_scheduling, else the defaults row '*'), its running jobs in the pool, and its next
 * $2 ready jobs by priority then age (skipping runs at their cap, and keeping no more of one run
 * than its cap leaves). `key` is the customer's share once this job runs: (running + n) / weight.
 */
const ranked = `
  , share AS MATERIALIZED (
    SELECT c.customer_id, coalesce(s.weight, 1)::float8 AS weight, (s.per_pool ->> $1)::int AS cap,
           s.per_run AS run_cap,
           EXISTS (SELECT 1 FROM customer_controls h WHERE h.customer_id = c.customer_id AND h.hold_by IS NOT NULL)
             AS held,
           (SELECT count(*) FROM jobs r
            WHERE r.pool = $1 AND r.customer_id = c.customer_id AND r.status = 'running')::int AS running
    FROM cust c
    LEFT JOIN ${schedulingOf('c.customer_id')} s ON true
    WHERE c.customer_id IS NOT NULL
  ), cand AS (
    SELECT x.id, x.priority, x.run_at, sh.customer_id, sh.weight, sh.running, sh.cap,
           sh.cap IS NOT NULL OR sh.run_cap IS NOT NULL AS constrained,
           row_number() OVER (PARTITION BY sh.customer_id ORDER BY x.priority DESC, x.run_at, x.id) AS n
    FROM share sh CROSS JOIN LATERAL (
      SELECT y.* FROM (
        SELECT z.*, row_number() OVER (PARTITION BY z.run_id ORDER BY z.priority DESC, z.run_at, z.id) AS run_n
        FROM (
          SELECT j.id, j.run_id, j.priority, j.run_at,
                 CASE WHEN sh.run_cap IS NULL THEN 0 ELSE
                   (SELECT count(*) FROM jobs r WHERE r.run_id = j.run_id AND r.status = 'running') END AS run_running
          FROM jobs j
          WHERE j.pool = $1 AND j.customer_id = sh.customer_id AND j.status = 'queued' AND j.run_at <= now()
            AND (NOT sh.held OR EXISTS (SELECT 1 FROM runs u WHERE u.id = j.run_id AND u.status <> 'queued'))
            AND (sh.run_cap IS NULL
                 OR (SELECT count(*) FROM jobs r WHERE r.run_id = j.run_id AND r.status = 'running') < sh.run_cap)
          ORDER BY j.priority DESC, j.run_at, j.id LIMIT $2
        ) z
      ) y WHERE sh.run_cap IS NULL OR y.run_running + y.run_n <= sh.run_cap
    ) x
    WHERE sh.cap IS NULL OR sh.running < sh.cap
  ), ranked AS (
    SELECT c.*, (c.running + c.n)::float8 / c.weight AS key FROM cand c
    WHERE c.cap IS NULL OR c.running + c.n <= c.cap
  )`

/**
 * Locks (SKIP LOCKED) and starts the first `limit` of the ranked candidates that `eligible` admits:
 * the jobs go to running under this worker's lease, their runs start.
 * The candidates, in claim order, are one array (`pick`): the jobs are looked up by it once
 * (`id = ANY`, an index lookup even in a plan made while the tables were small: a statement is
 * planned once per connection, and a fresh database grows under it) and locked in its order.
 */
const start = (eligible: string, limit: string, open: string) => `
  , pick AS MATERIALIZED (
    SELECT coalesce(array_agg(c.id ORDER BY c.pos), '{}') AS ids FROM (
      SELECT r.*, row_number() OVER (ORDER BY r.key, r.priority DESC, r.run_at, r.id) AS pos FROM ranked r
    ) c
    WHERE ${eligible}
      -- Headroom: past the open slots, only the first job of a customer with none running here.
      AND (${open} >= ${limit} OR c.pos <= ${open} OR (c.running = 0 AND c.n = 1))
  ), next AS (
    -- coalesce: \`j.status = 'queued'\` would let the planner read jobs_ready, whose key does not
    -- start with the id (a scan of the whole ready queue); this is one primary-key lookup per id.
    SELECT j.id FROM jobs j
    WHERE j.id = ANY ((SELECT ids FROM pick)::text[]) AND coalesce(j.status, '') = 'queued' AND j.run_at <= now()
    ORDER BY array_position((SELECT ids FROM pick)::text[], j.id)
    LIMIT ${limit}
    FOR UPDATE OF j SKIP LOCKED
  ), started AS (
    UPDATE jobs j SET status = 'running', attempt = j.attempt + 1, lease_owner = $3,
      lease_expires_at = now() + $4::int * interval '1 millisecond', started_at = clock_timestamp()
    FROM next WHERE j.id = next.id
    RETURNING ${JOB_COLUMNS}, j.priority, j.started_at
  ), runs_started AS (
    UPDATE runs SET status = 'running', started_at = clock_timestamp()
    WHERE id = ANY (ARRAY(SELECT run_id FROM started)) AND status = 'queued' RETURNING id
  ), claimed AS (
    SELECT s.*, r.id IS NOT NULL AS run_started FROM started s LEFT JOIN runs_started r ON r.id = s.run_id
  ), claim_events AS (
    -- Each run this claim started, then each job started, by priority (as they are handed out).
    SELECT customer_id, body, row_number() OVER (ORDER BY grp, priority DESC, k) AS n FROM (
      (SELECT DISTINCT ON (c.run_id) c.customer_id, ${runEventSql('c', 'started', { ts: 'c.started_at' })} AS body,
              0 AS grp, c.priority, c.run_id AS k
       FROM claimed c WHERE c.run_started ORDER BY c.run_id)
      UNION ALL
      SELECT c.customer_id, ${jobEventSql('c', 'started', { workerId: '$3::text', ts: 'c.started_at' })}, 1, c.priority, c.id
      FROM claimed c
    ) e
  ), ${stewardOutboxCtes('SELECT customer_id, body, n FROM claim_events')}`

/**
 * The first pass ($1 pool, $2 free slots, $3 worker, $4 lease ms, $5 of the slots open to any
 * customer, the rest headroom): customers without caps are claimed at once; the slots that fair
 * share gives to customers with caps are left free and those customers named (`deferred`), for
 * a second pass under their locks. Always one row at least (job columns null when nothing was
 * claimed). `alone`: the statement is its own transaction, and its commit does not wait for the
 * WAL flush (set_config is local to that transaction; see retryingTransaction's `asyncCommit`).
 */
const claimOpen = (alone: boolean) => `
    WITH RECURSIVE cust AS (
      (SELECT customer_id FROM jobs WHERE pool = $1 AND status = 'queued' ORDER BY customer_id LIMIT 1)
      UNION ALL
      SELECT (SELECT j.customer_id FROM jobs j
              WHERE j.pool = $1 AND j.status = 'queued' AND j.customer_id > cust.customer_id
              ORDER BY j.customer_id LIMIT 1)
      FROM cust WHERE cust.customer_id IS NOT NULL
    )
    ${ranked}
    ${alone ? `, async_commit AS MATERIALIZED (SELECT set_config('synchronous_commit', 'off', true))` : ''}
    , top AS (SELECT customer_id, constrained FROM ranked ORDER BY key, priority DESC, run_at, id LIMIT $2)
    , deferred AS (SELECT customer_id, count(*)::int AS slots FROM top WHERE constrained GROUP BY customer_id)
    ${start('NOT c.constrained', '$2 - (SELECT coalesce(sum(slots), 0) FROM deferred)::int', '$5::int')}
    SELECT claimed.*, d.deferred, d.slots, q.queued
    FROM (SELECT array_agg(customer_id ORDER BY customer_id) AS deferred, coalesce(sum(slots), 0)::int AS slots
          FROM deferred) d
    -- The pool's queued jobs as this statement found them (those it claims included), up to one
    -- more than its slots: whether it left any behind.
    CROSS JOIN (SELECT count(*)::int AS queued FROM (
      SELECT 1 FROM jobs WHERE pool = $1 AND status = 'queued' LIMIT $2 + 1) x) q
    LEFT JOIN claimed ON true${alone ? ' CROSS JOIN async_commit' : ''}`

// Timestamps use clock_timestamp(), not now() (the transaction's start): a job claimed in a
// transaction that began before its dependency committed must still show a later start.
const SQL = {
  claimOpen: claimOpen(false),
  claimOpenAlone: claimOpen(true),
  /** Takes the claim locks of these customers ($1, sorted: one lock order for every claimer). */
  lockCustomers: `SELECT pg_advisory_xact_lock(${CAP_LOCK}, hashtext(c)) FROM unnest($1::text[]) AS c`,
  /**
   * The second pass, under the locks of the customers $5 (their running counts are exact now):
   * up to $2 of their jobs, by fair share among them ($6 open to any, as in the first pass).
   */
  claimLocked: `
    WITH cust AS (SELECT unnest($5::text[]) AS customer_id)
    ${ranked}
    ${start('true', '$2', '$6::int')}
    SELECT * FROM claimed`,
}

export interface ClaimRequest {
  poolName: string
  limit: number
  leaseMs: number
  /**
   * Of the `limit` slots, how many any customer may take (default: all). The others are the
   * worker's headroom (`orchestrator.headroomSlots`): only for a customer with no job running in
   * the pool, its first, so a newcomer starts at once while another customer fills the pool.
   */
  open?: number
}

type ClaimRow = ClaimedJob & { priority: number }
type OpenRow = ClaimRow & { deferred: string[] | null; slots: number; queued: number }

const claimArgs = (workerId: string, r: ClaimRequest) => [
  r.poolName,
  r.limit,
  workerId,
  r.leaseMs,
  Math.min(r.limit, r.open ?? r.limit),
]

/** The jobs of the first pass, and the customers (sorted) with the slots it left for the second. */
function firstPass(rows: OpenRow[]): { jobs: ClaimRow[]; deferred: string[]; slots: number; queued: number } {
  const first = rows[0]
  // Code-unit order, the same in every process: two claimers never wait for each other's locks.
  const deferred = first?.deferred?.length && first.slots > 0 ? [...first.deferred].sort() : []
  return {
    jobs: rows.filter((x) => x.id !== null),
    deferred,
    slots: first?.slots ?? 0,
    queued: first?.queued ?? 0,
  }
}

/** The second pass, under the locks of the deferred customers (inside the caller's transaction). */
async function claimDeferred(
  c: PoolClient,
  workerId: string,
  r: ClaimRequest,
  customers: string[],
  slots: number,
): Promise<ClaimRow[]> {
  await c.query(prepared('lockCustomers', SQL.lockCustomers, [customers]))
  const [poolName, , , leaseMs, anyone] = claimArgs(workerId, r)
  const locked = await c.query<ClaimRow>(
    prepared('claimLocked', SQL.claimLocked, [poolName, slots, workerId, leaseMs, customers, anyone]),
  )
  return locked.rows
}

const byPriority = (rows: ClaimRow[]): ClaimedJob[] => rows.sort((a, b) => b.priority - a.priority)

/** Claims inside the caller's transaction (their `started` events appended with them). */
export async function claimIn(c: PoolClient, workerId: string, r: ClaimRequest): Promise<ClaimedJob[]> {
  const open = await c.query<OpenRow>(prepared('claimOpen', SQL.claimOpen, claimArgs(workerId, r)))
  const { jobs, deferred, slots } = firstPass(open.rows)
  if (deferred.length) jobs.push(...(await claimDeferred(c, workerId, r, deferred, slots)))
  return byPriority(jobs)
}

/**
 * Claims up to `limit` jobs of a pool. The first pass is one statement, its own transaction (one
 * round trip); customers with caps, if fair share gives them slots, are claimed after it in a
 * transaction of their own under their locks. Both commit without waiting for the WAL flush (a
 * claim lost in a crash leaves its job queued: see retryingTransaction).
 * `more`: false when the claim left no queued job of the pool behind (as of its snapshot): until
 * a NOTIFY says a job became ready, a freed slot need not claim (worker.ts).
 */
export async function claimBatch(
  pool: Pool,
  poolName: string,
  workerId: string,
  limit: number,
  leaseMs: number,
  open = limit,
): Promise<{ jobs: ClaimedJob[]; more: boolean }> {
  const r: ClaimRequest = { poolName, limit, leaseMs, open }
  const first = await retrying(() =>
    runKeyed<OpenRow>(pool, prepared('claimOpenAlone', SQL.claimOpenAlone, claimArgs(workerId, r))),
  )
  const { jobs, deferred, slots, queued } = firstPass(first.rows)
  // Customers deferred to the second pass: their queued jobs are not all taken (it may be short).
  const more = deferred.length > 0 || queued > jobs.length
  if (deferred.length) {
    const locked = await retryingTransaction(pool, (c) => claimDeferred(c, workerId, r, deferred, slots), {
      asyncCommit: true,
    }).catch((err) => {
      // The first pass committed: its jobs are this worker's, and dropping them would leave them
      // waiting for their leases to expire. The deferred customers' jobs stay queued for the next
      // claim (which meets the error again if it lasts).
      if (jobs.length) return []
      throw err
    })
    jobs.push(...locked)
  }
  return { jobs: byPriority(jobs), more }
}

/** claimBatch's jobs. */
export const claimJobs = async (...args: Parameters<typeof claimBatch>): Promise<ClaimedJob[]> =>
  (await claimBatch(...args)).jobs
