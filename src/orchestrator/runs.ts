// Runs in PostgreSQL: the reads behind GET /v1/runs and GET /v1/runs/:id (creating them:
// create-run.ts).

import type { Queryable } from '../db/postgres.ts'
import { NotFoundError } from '../errors.ts'
import { attemptSpanId, runTraceId } from '../ingest/index.ts'
import type { CostFigures, TokenUsage, WorkUsage } from '../pricing/index.ts'
import { attemptsOf } from './attempts.ts'
import type {
  Attempt,
  AttemptOutcome,
  FailureClass,
  Job,
  JobStatus,
  Run,
  RunCost,
  RunDetail,
  RunStatus,
  Waiting,
} from './schemas.ts'
import type { JobDims } from './types.ts'

const SQL = {
  getRun: 'SELECT * FROM runs WHERE id = $1',
  runJobs: 'SELECT * FROM jobs WHERE run_id = $1 ORDER BY created_at, step_key',
  runAttempts: attemptsOf('j.run_id = $1'),
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
