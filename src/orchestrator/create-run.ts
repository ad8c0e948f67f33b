// Creating runs: the run, its jobs, its `created` event in the outbox and the NOTIFY of each pool
// with a ready job, in one statement (one round trip, atomic without an explicit transaction).
// The runs created at once on one database (concurrent POST /v1/runs) share their statements:
// those that arrive in one event-loop turn, or while two statements are under way, go in the
// next one, so a burst of runs costs a few commits instead of one each.
//
// Guarantees: a run is stored completely or not at all, and its caller's promise resolves only
// once its statement committed; the same (customer, idempotencyKey) yields the first run, also
// when two requests race or share a statement (the unique key decides); one request's failure
// (a customer that is not registered) fails only that request: a shared statement that fails is
// retried one run at a time.
import { randomUUID } from 'node:crypto'
import type { Pool } from '../db/postgres.ts'
import { ValidationError } from '../errors.ts'
import { runTraceId, stewardOutboxCtes } from '../ingest/index.ts'
import { Batcher } from './batcher.ts'
import type { OrchestratorConfig } from './config.ts'
import { runEventSql } from './events.ts'
import type { Handlers } from './handlers.ts'
import type { CreatedRun, RunStatus } from './schemas.ts'
import { JOBS_CHANNEL } from './settle.ts'
import { prepared, runKeyed } from './sql.ts'
import type { RunRequest } from './validate.ts'

/** Runs in one statement at most (the rest wait for the next). */
const MAX_BATCH = 64
/** Statements under way at once per database (one waits for its WAL flush, one fills). */
const MAX_STATEMENTS = 2

const SQL = {
  byKey: 'SELECT id, status FROM runs WHERE customer_id = $1 AND idempotency_key = $2',
  // $1 the runs, $2 their jobs (JSON arrays). Returns the ids of the runs inserted: a run whose
  // (customer, idempotencyKey) exists, or appears earlier in $1, is not.
  insertRuns: `
    WITH input AS (
      SELECT * FROM jsonb_to_recordset($1::jsonb) AS x(id text, customer_id text, project_id text, type text,
        priority int, idempotency_key text, jobs_total int, n int)
    ), keyless AS (
      -- Without a key nothing can conflict: a plain insert (ON CONFLICT is a speculative insert,
      -- with a confirmation record, for every row).
      INSERT INTO runs (id, customer_id, project_id, type, priority, jobs_total)
      SELECT id, customer_id, project_id, type, priority, jobs_total FROM input WHERE idempotency_key IS NULL ORDER BY n
      RETURNING id, id AS run_id, customer_id, project_id, type AS run_type, priority, created_at
    ), keyed AS (
      INSERT INTO runs (id, customer_id, project_id, type, priority, idempotency_key, jobs_total)
      SELECT id, customer_id, project_id, type, priority, idempotency_key, jobs_total FROM input
      WHERE idempotency_key IS NOT NULL ORDER BY n
      ON CONFLICT (customer_id, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
      RETURNING id, id AS run_id, customer_id, project_id, type AS run_type, priority, created_at
    ), r AS (
      SELECT * FROM keyless UNION ALL SELECT * FROM keyed
    ), mode AS (
      -- Customers in fallback mode (customer-controls.ts): their steps with a fallback start on it.
      SELECT customer_id FROM customer_controls
      WHERE customer_id IN (SELECT customer_id FROM input) AND fallback_by IS NOT NULL
    ), ins AS (
      INSERT INTO jobs (id, run_id, customer_id, project_id, run_type, priority, step_key, kind, pool, input,
                        depends_on, has_dependents, fallback, max_attempts, backoff_ms, timeout_ms, status,
                        using_fallback, primary_step)
      SELECT j.id, r.id, r.customer_id, r.project_id, r.run_type, r.priority, j.step_key,
             CASE WHEN sw THEN j.fallback->>'kind' ELSE j.kind END,
             CASE WHEN sw THEN j.fallback->>'pool' ELSE j.pool END,
             CASE WHEN sw THEN coalesce(j.fallback->'input', j.input) ELSE j.input END,
             j.depends_on, j.has_dependents, j.fallback, j.max_attempts, j.backoff_ms, j.timeout_ms, j.status,
             sw, CASE WHEN sw THEN jsonb_build_object('kind', j.kind, 'pool', j.pool, 'input', j.input) END
      FROM jsonb_to_recordset($2::jsonb) AS j(run_id text, id text, step_key text, kind text, pool text,
        input jsonb, depends_on text[], has_dependents boolean, fallback jsonb, max_attempts int, backoff_ms int,
        timeout_ms int, status text)
        JOIN r ON r.id = j.run_id
        CROSS JOIN LATERAL (
          SELECT j.fallback IS NOT NULL AND EXISTS (SELECT 1 FROM mode m WHERE m.customer_id = r.customer_id) AS sw
        ) s
      RETURNING pool, status
    ), woken AS (
      SELECT pg_notify('${JOBS_CHANNEL}', p.pool) FROM (SELECT DISTINCT pool FROM ins WHERE status = 'queued') p
    ), ${stewardOutboxCtes(
      `SELECT customer_id, ${runEventSql('r', 'created', { ts: 'r.created_at' })} AS body,
              row_number() OVER (ORDER BY created_at, id) AS n FROM r`,
    )}
    SELECT coalesce((SELECT array_agg(id) FROM r), '{}') AS created, (SELECT count(*) FROM woken)::int AS woken`,
}

/** A run as a row of `insertRuns`, with its jobs. */
interface RunRow {
  id: string
  customer_id: string
  project_id: string
  type: string
  priority: number
  idempotency_key: string | null
  jobs_total: number
  jobs: Record<string, unknown>[]
}

const poolOf = (cfg: OrchestratorConfig, handlers: Handlers, kind: string): string =>
  cfg.kindPools[kind] ?? handlers.get(kind)?.pool ?? 'default'

function runRow(cfg: OrchestratorConfig, handlers: Handlers, req: RunRequest): RunRow {
  const id = randomUUID()
  const needed = new Set(req.steps.flatMap((s) => s.dependsOn ?? []))
  const jobs = req.steps.map((s) => ({
    run_id: id,
    id: randomUUID(),
    step_key: s.key,
    kind: s.kind,
    pool: poolOf(cfg, handlers, s.kind),
    input: s.input ?? {},
    depends_on: s.dependsOn ?? [],
    has_dependents: needed.has(s.key),
    fallback: s.fallback ? { ...s.fallback, pool: poolOf(cfg, handlers, s.fallback.kind) } : null,
    max_attempts: s.retry?.maxAttempts ?? cfg.retry.maxAttempts,
    backoff_ms: s.retry?.backoffMs ?? cfg.retry.backoffMs,
    timeout_ms: s.timeoutMs ?? null,
    status: s.dependsOn?.length ? 'blocked' : 'queued',
  }))
  return {
    id,
    customer_id: req.customerId,
    project_id: req.projectId,
    type: req.type,
    priority: req.priority,
    idempotency_key: req.idempotencyKey ?? null,
    jobs_total: jobs.length,
    jobs,
  }
}

const unknownCustomer = (id: string) =>
  new ValidationError(
    [{ path: 'customerId', message: `unknown customer "${id}"` }],
    'the run names a customer that is not registered',
    'unprocessable',
  )

const isForeignKeyError = (err: unknown) => (err as { code?: string }).code === '23503'

/** Inserts runs in one statement; returns the ids of those inserted. */
async function insertRuns(pool: Pool, rows: RunRow[]): Promise<Set<string>> {
  const { rows: out } = await runKeyed<{ created: string[] }>(
    pool,
    prepared('insertRuns', SQL.insertRuns, [
      JSON.stringify(rows.map(({ jobs: _, ...run }, n) => ({ ...run, n }))),
      JSON.stringify(rows.flatMap((r) => r.jobs)),
    ]),
  )
  return new Set(out[0]?.created ?? [])
}

/**
 * Inserts runs of one database in shared statements (Batcher): whether each was inserted. When a
 * shared statement fails (one run names a customer that is not registered, or anything else one
 * run could cause), each run of the batch goes again on its own, so only the one at fault fails.
 */
const runInserter = (pool: Pool) =>
  new Batcher<RunRow, boolean>(
    async (rows) => {
      try {
        const created = await insertRuns(pool, rows)
        return rows.map((r) => created.has(r.id))
      } catch (err) {
        if (rows.length === 1) throw err
        return Promise.all(
          rows.map((r) =>
            insertRuns(pool, [r]).then(
              (created) => created.has(r.id),
              (e: unknown) => (e instanceof Error ? e : new Error(String(e))),
            ),
          ),
        )
      }
    },
    { maxBatch: MAX_BATCH, maxInFlight: MAX_STATEMENTS },
  )

const inserters = new WeakMap<Pool, Batcher<RunRow, boolean>>()

export async function createRun(
  pool: Pool,
  cfg: OrchestratorConfig,
  handlers: Handlers,
  req: RunRequest,
): Promise<CreatedRun & { created: boolean }> {
  const created = (r: { id: string; status: RunStatus }, isNew: boolean) => ({
    id: r.id,
    status: r.status,
    traceId: runTraceId(r.id),
    created: isNew,
  })
  const prior = async () =>
    (await pool.query<{ id: string; status: RunStatus }>(SQL.byKey, [req.customerId, req.idempotencyKey]))
      .rows[0]
  if (req.idempotencyKey) {
    const earlier = await prior()
    if (earlier) return created(earlier, false)
  }
  const row = runRow(cfg, handlers, req)
  const inserter = inserters.get(pool) ?? runInserter(pool)
  inserters.set(pool, inserter)
  const inserted = await inserter.add(row).catch((err) => {
    // The customers foreign key: checked by the insert itself, saving a round trip per run.
    throw isForeignKeyError(err) ? unknownCustomer(req.customerId) : err
  })
  // Not inserted: its key existed (the insert waited for the winner to commit), or an earlier run
  // of the same statement had it.
  if (!inserted) return created((await prior())!, false)
  return created({ id: row.id, status: 'queued' }, true)
}
