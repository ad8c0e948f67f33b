// Runs in PostgreSQL: create (one statement, so one round trip, for the run, its jobs, its `created`
// event and the wake-up of workers), and the reads behind GET /v1/runs and GET /v1/runs/:id.
//
// Guarantees: a run is stored completely or not at all; the same (customer, idempotencyKey)
// yields the first run, also when two requests race (the unique key decides).

import { randomUUID } from 'node:crypto'
import type { Pool, Queryable } from '../db/postgres.ts'
import { NotFoundError, ValidationError } from '../errors.ts'
import { attemptSpanId, runTraceId, stewardOutboxCtes } from '../ingest/index.ts'
import type { CostFigures, TokenUsage, WorkUsage } from '../pricing/index.ts'
import type { OrchestratorConfig } from './config.ts'
import { runEventSql } from './events.ts'
import type { Handlers } from './handlers.ts'
import type {
  Attempt,
  AttemptOutcome,
  CreatedRun,
  FailureClass,
  Job,
  JobStatus,
  Run,
  RunCost,
  RunDetail,
  RunStatus,
  Waiting,
} from './schemas.ts'
import { JOBS_CHANNEL } from './settle.ts'
import { prepared } from './sql.ts'
import type { JobDims } from './types.ts'
import type { RunRequest } from './validate.ts'

const SQL = {
  byKey: 'SELECT id, status FROM runs WHERE customer_id = $1 AND idempotency_key = $2',
  // The run, its jobs, its `created` event in the outbox (none when the key existed) and the NOTIFY of each pool
  // with a ready job: one statement, so one round trip and atomic without an explicit transaction.
  insertRun: `
    WITH r AS (
      INSERT INTO runs (id, customer_id, project_id, type, priority, idempotency_key, jobs_total)
      VALUES ($1, $2, $3, $4, $5, $6, $8)
      ON CONFLICT (customer_id, idempotency_key) DO NOTHING
      RETURNING id, id AS run_id, customer_id, project_id, type AS run_type, created_at
    ), mode AS (
      -- The customer's fallback mode (customer-controls.ts): steps with a fallback start on it.
      SELECT EXISTS (SELECT 1 FROM customer_controls WHERE customer_id = $2 AND fallback_by IS NOT NULL) AS on
    ), ins AS (
      INSERT INTO jobs (id, run_id, customer_id, project_id, run_type, priority, step_key, kind, pool, input,
                        depends_on, has_dependents, fallback, max_attempts, backoff_ms, timeout_ms, status,
                        using_fallback, primary_step)
      SELECT j.id, r.id, $2, $3, $4, $5, j.step_key,
             CASE WHEN sw THEN j.fallback->>'kind' ELSE j.kind END,
             CASE WHEN sw THEN j.fallback->>'pool' ELSE j.pool END,
             CASE WHEN sw THEN coalesce(j.fallback->'input', j.input) ELSE j.input END,
             j.depends_on, j.has_dependents, j.fallback, j.max_attempts, j.backoff_ms, j.timeout_ms, j.status,
             sw, CASE WHEN sw THEN jsonb_build_object('kind', j.kind, 'pool', j.pool, 'input', j.input) END
      FROM r, jsonb_to_recordset($7::jsonb) AS j(id text, step_key text, kind text, pool text, input jsonb,
        depends_on text[], has_dependents boolean, fallback jsonb, max_attempts int, backoff_ms int,
        timeout_ms int, status text)
        CROSS JOIN LATERAL (SELECT j.fallback IS NOT NULL AND (SELECT mode.on FROM mode) AS sw) s
      RETURNING pool, status
    ), woken AS (
      SELECT pg_notify('${JOBS_CHANNEL}', p.pool) FROM (SELECT DISTINCT pool FROM ins WHERE status = 'queued') p
    ), ${stewardOutboxCtes(`SELECT customer_id, ${runEventSql('r', 'created', { ts: 'r.created_at' })} AS body, 1 AS n FROM r`)}
    SELECT (SELECT count(*) FROM r)::int AS created, (SELECT count(*) FROM woken)::int AS woken,
           (SELECT count(*) FROM outbox_rows)::int AS events`,
  getRun: 'SELECT * FROM runs WHERE id = $1',
  runJobs: 'SELECT * FROM jobs WHERE run_id = $1 ORDER BY created_at, step_key',
  runAttempts: `SELECT a.* FROM job_attempts a JOIN jobs j ON j.id = a.job_id WHERE j.run_id = $1 ORDER BY a.job_id, a.attempt`,
  runUsage: `SELECT model, to_char(reported_at AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS day,
               sum(input_tokens)::bigint AS input_tokens, sum(output_tokens)::bigint AS output_tokens,
               sum(cache_read_tokens)::bigint AS cache_read_tokens,
               sum(cache_write_tokens)::bigint AS cache_write_tokens,
               sum(reasoning_tokens)::bigint AS reasoning_tokens
             FROM job_usage WHERE run_id = $1 GROUP BY model, day ORDER BY model, day`,
  listRuns: `
    SELECT * FROM runs
    WHERE ($1::text IS NULL OR customer_id = $1) AND ($2::text IS NULL OR status = $2)
      AND ($3::text IS NULL OR project_id = $3) AND ($4::timestamptz IS NULL OR created_at < $4)
    ORDER BY created_at DESC, id DESC LIMIT $5`,
}

const poolOf = (cfg: OrchestratorConfig, handlers: Handlers, kind: string): string =>
  cfg.kindPools[kind] ?? handlers.get(kind)?.pool ?? 'default'

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
  if (req.idempotencyKey) {
    const prior = await pool.query<{ id: string; status: RunStatus }>(SQL.byKey, [
      req.customerId,
      req.idempotencyKey,
    ])
    if (prior.rows[0]) return created(prior.rows[0], false)
  }
  const id = randomUUID()
  const needed = new Set(req.steps.flatMap((s) => s.dependsOn ?? []))
  const jobs = req.steps.map((s) => ({
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
  const values = [
    id,
    req.customerId,
    req.projectId,
    req.type,
    req.priority,
    req.idempotencyKey ?? null,
    JSON.stringify(jobs),
    jobs.length,
  ]
  const inserted = await pool
    .query<{ created: number }>(prepared('insertRun', SQL.insertRun, values))
    .catch((err) => {
      // The customers foreign key: checked by the insert itself, saving a round trip per run.
      if ((err as { code?: string }).code === '23503') throw unknownCustomer(req.customerId)
      throw err
    })
  if (!inserted.rows[0]?.created) {
    // Lost a race on the same idempotency key (the insert waited for the winner to commit).
    const prior = await pool.query<{ id: string; status: RunStatus }>(SQL.byKey, [
      req.customerId,
      req.idempotencyKey,
    ])
    return created(prior.rows[0]!, false)
  }
  return created({ id, status: 'queued' }, true)
}

const unknownCustomer = (id: string) =>
  new ValidationError(
    [{ path: 'customerId', message: `unknown customer "${id}"` }],
    'the run names a customer that is not registered',
    'unprocessable',
  )

const iso = (d: Date) => d.toISOString()
const isoOrNull = (d: Date | null) => (d ? d.toISOString() : null)

/** The columns of `runs` the views read. */
export interface RunRow {
  id: string
  customer_id: string
  project_id: string
  type: string
  priority: number
  status: RunStatus
  error_class: FailureClass | null
  idempotency_key: string | null
  created_at: Date
  started_at: Date | null
  finished_at: Date | null
}

/** The columns of `jobs` the views read. */
export interface JobRow extends JobDims {
  status: JobStatus
  priority: number
  depends_on: string[]
  failures: number
  reclaims: number
  max_attempts: number
  using_fallback: boolean
  primary_step: unknown
  run_at: Date
  output: unknown
  checkpoint: unknown
  error_class: FailureClass | null
  last_error: string | null
  dead_lettered_at: Date | null
  /** bigint: pg returns it as a string. */
  worker_ms: string
}

/** A row of `job_attempts`. */
export interface AttemptRow {
  job_id: string
  attempt: number
  kind: string
  worker_id: string
  outcome: AttemptOutcome
  error_class: FailureClass | null
  error: string | null
  started_at: Date
  finished_at: Date | null
  duration_ms: number | null
  retry_delay_ms: number | null
}

/** Token usage of a run per model and UTC day (sums are bigint: strings). */
interface UsageRow {
  model: string
  day: string
  input_tokens: string
  output_tokens: string
  cache_read_tokens: string
  cache_write_tokens: string
  reasoning_tokens: string
}

export function toRun(r: RunRow): Run {
  return {
    id: r.id,
    customerId: r.customer_id,
    projectId: r.project_id,
    type: r.type,
    priority: r.priority,
    status: r.status,
    errorClass: r.error_class,
    idempotencyKey: r.idempotency_key,
    traceId: runTraceId(r.id),
    createdAt: iso(r.created_at),
    startedAt: isoOrNull(r.started_at),
    finishedAt: isoOrNull(r.finished_at),
  }
}

function toAttempt(a: AttemptRow): Attempt {
  return {
    attempt: a.attempt,
    kind: a.kind,
    workerId: a.worker_id,
    outcome: a.outcome,
    errorClass: a.error_class,
    error: a.error,
    startedAt: iso(a.started_at),
    finishedAt: isoOrNull(a.finished_at),
    durationMs: a.duration_ms,
    retryDelayMs: a.retry_delay_ms,
    spanId: attemptSpanId(a.job_id, a.attempt),
  }
}

/** A job's view; `waiting` says why a blocked or queued job is not running (jobs.ts explains). */
export function toJob(j: JobRow, attempts: AttemptRow[], waiting: Waiting | null = null): Job {
  return {
    jobId: j.id,
    runId: j.run_id,
    key: j.step_key,
    kind: j.kind,
    pool: j.pool,
    status: j.status,
    dependsOn: j.depends_on,
    attempt: j.attempt,
    failures: j.failures,
    reclaims: j.reclaims,
    maxAttempts: j.max_attempts,
    usingFallback: j.using_fallback,
    fallbackCause: !j.using_fallback ? null : j.primary_step ? 'mode' : 'failure',
    runAt: iso(j.run_at),
    output: j.output ?? null,
    checkpoint: j.checkpoint ?? null,
    errorClass: j.error_class,
    lastError: j.last_error,
    deadLetteredAt: isoOrNull(j.dead_lettered_at),
    waiting,
    attempts: attempts.map(toAttempt),
  }
}

/** The attempts of these jobs, by job id. */
export function attemptsByJob(rows: AttemptRow[]): Map<string, AttemptRow[]> {
  const byJob = new Map<string, AttemptRow[]>()
  for (const a of rows) byJob.set(a.job_id, [...(byJob.get(a.job_id) ?? []), a])
  return byJob
}

const utcDay = (d: Date) => d.toISOString().slice(0, 10)

/** Prices work and tokens (the pricing module's `price`). */
export type PriceFn = (work: WorkUsage[], tokens: TokenUsage[]) => CostFigures

function runCost(jobs: JobRow[], attempts: AttemptRow[], usage: UsageRow[], price: PriceFn): RunCost {
  const workerMs = jobs.reduce((s, j) => s + Number(j.worker_ms), 0)
  const toks = usage.map((u) => ({
    model: u.model,
    d: u.day,
    i: Number(u.input_tokens),
    o: Number(u.output_tokens),
    cr: Number(u.cache_read_tokens),
    cw: Number(u.cache_write_tokens),
    r: Number(u.reasoning_tokens),
  }))
  const poolOfJob = new Map(jobs.map((j) => [j.id, j.pool]))
  const work = attempts
    .filter((a) => a.duration_ms !== null)
    .map((a) => ({ pool: poolOfJob.get(a.job_id) ?? '', d: utcDay(a.started_at), ms: Number(a.duration_ms) }))
  const priced = price(work, toks)
  return {
    workerSeconds: workerMs / 1000,
    // The priced figures count tokens per model too: one sum, in the order models were first used.
    tokens: [...new Set(toks.map((t) => t.model))].map((model) => {
      const { cost: _, ...counts } = priced.byModel[model]!
      return { model, ...counts }
    }),
    currency: priced.currency,
    total: priced.total,
    infrastructure: priced.infrastructure,
    ai: priced.ai,
    unpriced: priced.unpriced,
  }
}

/**
 * A run with its steps, their attempts and errors, why each waiting step is not running
 * (`explain`, jobs.ts), and its cost: worker-seconds and tokens, priced with `price` on the day
 * the work happened.
 */
export async function getRunDetail(
  db: Queryable,
  id: string,
  price: PriceFn,
  explain: (jobs: JobRow[]) => Promise<Map<string, Waiting>>,
): Promise<RunDetail> {
  const run = (await db.query<RunRow>(SQL.getRun, [id])).rows[0]
  if (!run) throw new NotFoundError(`run ${id}`)
  const [jobs, attempts, usage] = await Promise.all([
    db.query<JobRow>(SQL.runJobs, [id]),
    db.query<AttemptRow>(SQL.runAttempts, [id]),
    db.query<UsageRow>(SQL.runUsage, [id]),
  ])
  const byJob = attemptsByJob(attempts.rows)
  const waiting = await explain(jobs.rows)
  return {
    ...toRun(run),
    steps: jobs.rows.map((j) => toJob(j, byJob.get(j.id) ?? [], waiting.get(j.id) ?? null)),
    cost: runCost(jobs.rows, attempts.rows, usage.rows, price),
  }
}

/** The run's owner, for tenant checks (undefined: no such run). */
export async function runOwner(db: Queryable, id: string): Promise<string | undefined> {
  return (await db.query<RunRow>(SQL.getRun, [id])).rows[0]?.customer_id
}

export async function listRuns(
  db: Queryable,
  f: { customerId?: string; status?: RunStatus; projectId?: string; before?: string; limit: number },
): Promise<Run[]> {
  const { rows } = await db.query<RunRow>(SQL.listRuns, [
    f.customerId ?? null,
    f.status ?? null,
    f.projectId ?? null,
    f.before ?? null,
    f.limit,
  ])
  return rows.map(toRun)
}
