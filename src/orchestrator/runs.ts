// Runs in PostgreSQL: create (one transaction for the run, its jobs, its `created` event and the
// wake-up of workers), and the reads behind GET /v1/runs and GET /v1/runs/:id.
//
// Guarantees: a run is stored completely or not at all; the same (customer, idempotencyKey)
// yields the first run, also when two requests race (the unique key decides).

import { randomUUID } from 'node:crypto'
import type { Pool, Queryable } from '../db/postgres.ts'
import { transaction } from '../db/postgres.ts'
import { NotFoundError, ValidationError } from '../errors.ts'
import { appendEvents } from '../ingest/index.ts'
import type { CostFigures, TokenUsage, WorkUsage } from '../pricing/index.ts'
import type { OrchestratorConfig } from './config.ts'
import { runEvent } from './events.ts'
import type { Handlers } from './handlers.ts'
import { JOBS_CHANNEL } from './settle.ts'
import { prepared } from './sql.ts'
import type { RunRequest } from './validate.ts'

const SQL = {
  byKey: 'SELECT id, status FROM runs WHERE customer_id = $1 AND idempotency_key = $2',
  // The run, its jobs and the NOTIFY of each pool with a ready job, in one statement.
  insertRun: `
    WITH r AS (
      INSERT INTO runs (id, customer_id, project_id, type, priority, idempotency_key, jobs_total)
      VALUES ($1, $2, $3, $4, $5, $6, $8)
      ON CONFLICT (customer_id, idempotency_key) DO NOTHING RETURNING id
    ), ins AS (
      INSERT INTO jobs (id, run_id, customer_id, project_id, run_type, priority, step_key, kind, pool, input,
                        depends_on, has_dependents, fallback, max_attempts, backoff_ms, timeout_ms, status)
      SELECT j.id, r.id, $2, $3, $4, $5, j.step_key, j.kind, j.pool, j.input, j.depends_on, j.has_dependents,
             j.fallback, j.max_attempts, j.backoff_ms, j.timeout_ms, j.status
      FROM r, jsonb_to_recordset($7::jsonb) AS j(id text, step_key text, kind text, pool text, input jsonb,
        depends_on text[], has_dependents boolean, fallback jsonb, max_attempts int, backoff_ms int,
        timeout_ms int, status text)
      RETURNING pool, status
    ), woken AS (
      SELECT pg_notify('${JOBS_CHANNEL}', p.pool) FROM (SELECT DISTINCT pool FROM ins WHERE status = 'queued') p
    )
    SELECT (SELECT count(*) FROM r)::int AS created, (SELECT count(*) FROM woken)::int AS woken`,
  getRun: 'SELECT * FROM runs WHERE id = $1',
  runJobs: 'SELECT * FROM jobs WHERE run_id = $1 ORDER BY created_at, step_key',
  runAttempts: `SELECT a.* FROM job_attempts a JOIN jobs j ON j.id = a.job_id WHERE j.run_id = $1 ORDER BY a.job_id, a.attempt`,
  runUsage: `SELECT model, to_char(reported_at AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS day,
               sum(input_tokens)::bigint AS input_tokens, sum(output_tokens)::bigint AS output_tokens
             FROM job_usage WHERE run_id = $1 GROUP BY model, day ORDER BY model, day`,
  listRuns: `
    SELECT * FROM runs
    WHERE ($1::text IS NULL OR customer_id = $1) AND ($2::text IS NULL OR status = $2)
      AND ($3::text IS NULL OR project_id = $3) AND ($4::timestamptz IS NULL OR created_at < $4)
    ORDER BY created_at DESC, id DESC LIMIT $5`,
}

const poolOf = (cfg: OrchestratorConfig, handlers: Handlers, kind: string): string =>
  cfg.kindPools[kind] ?? handlers.get(kind)?.pool ?? 'default'

export interface CreatedRun {
  id: string
  status: string
  created: boolean
}

/** Stores a validated run; its jobs go to the pool of their kind in `handlers` (or `kindPools`). */
export async function createRun(
  pool: Pool,
  cfg: OrchestratorConfig,
  handlers: Handlers,
  req: RunRequest,
): Promise<CreatedRun> {
  if (req.idempotencyKey) {
    const prior = await pool.query(SQL.byKey, [req.customerId, req.idempotencyKey])
    if (prior.rows[0]) return { ...prior.rows[0], created: false }
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
  return transaction(pool, async (c) => {
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
    const inserted = await c.query(prepared('insertRun', SQL.insertRun, values)).catch((err) => {
      // The customers foreign key: checked by the insert itself, saving a round trip per run.
      if ((err as { code?: string }).code === '23503') throw unknownCustomer(req.customerId)
      throw err
    })
    if (!inserted.rows[0]?.created) {
      // Lost a race on the same idempotency key: answer with the winner's run.
      const prior = await c.query(SQL.byKey, [req.customerId, req.idempotencyKey])
      return { ...prior.rows[0], created: false }
    }
    await appendEvents(c, [
      runEvent({ id, customer_id: req.customerId, project_id: req.projectId, type: req.type }, 'created'),
    ])
    return { id, status: 'queued', created: true }
  })
}

const unknownCustomer = (id: string) =>
  new ValidationError(
    [{ path: 'customerId', message: `unknown customer "${id}"` }],
    'the run names a customer that is not registered',
    'unprocessable',
  )

const iso = (d: Date | null) => (d ? d.toISOString() : null)

// biome-ignore lint/suspicious/noExplicitAny: database rows
type Row = Record<string, any>

export function runSummary(r: Row) {
  return {
    id: r.id as string,
    customerId: r.customer_id as string,
    projectId: r.project_id as string,
    type: r.type as string,
    priority: r.priority as number,
    status: r.status as string,
    errorClass: (r.error_class ?? null) as string | null,
    idempotencyKey: (r.idempotency_key ?? null) as string | null,
    createdAt: iso(r.created_at) as string,
    startedAt: iso(r.started_at),
    finishedAt: iso(r.finished_at),
  }
}

function attemptView(a: Row) {
  return {
    attempt: a.attempt as number,
    kind: a.kind as string,
    workerId: a.worker_id as string,
    outcome: a.outcome as string,
    errorClass: (a.error_class ?? null) as string | null,
    error: (a.error ?? null) as string | null,
    startedAt: iso(a.started_at) as string,
    finishedAt: iso(a.finished_at),
    durationMs: (a.duration_ms ?? null) as number | null,
    retryDelayMs: (a.retry_delay_ms ?? null) as number | null,
  }
}

export function jobView(j: Row, attempts: Row[]) {
  return {
    jobId: j.id as string,
    runId: j.run_id as string,
    key: j.step_key as string,
    kind: j.kind as string,
    pool: j.pool as string,
    status: j.status as string,
    dependsOn: j.depends_on as string[],
    attempt: j.attempt as number,
    failures: j.failures as number,
    reclaims: j.reclaims as number,
    maxAttempts: j.max_attempts as number,
    usingFallback: j.using_fallback as boolean,
    runAt: iso(j.run_at),
    output: j.output ?? null,
    checkpoint: j.checkpoint ?? null,
    errorClass: (j.error_class ?? null) as string | null,
    lastError: (j.last_error ?? null) as string | null,
    deadLetteredAt: iso(j.dead_lettered_at),
    attempts: attempts.map(attemptView),
  }
}

const utcDay = (d: Date) => d.toISOString().slice(0, 10)

/**
 * A run with its steps, their attempts and errors, and its cost: worker-seconds and tokens, and,
 * given `price` (the pricing module's), their price on the day the work happened.
 */
export async function getRunDetail(
  db: Queryable,
  id: string,
  price?: (work: WorkUsage[], tokens: TokenUsage[]) => CostFigures,
) {
  const run = (await db.query(SQL.getRun, [id])).rows[0]
  if (!run) throw new NotFoundError(`run ${id}`)
  const [jobs, attempts, usage] = await Promise.all([
    db.query(SQL.runJobs, [id]),
    db.query(SQL.runAttempts, [id]),
    db.query(SQL.runUsage, [id]),
  ])
  const byJob = new Map<string, Row[]>()
  for (const a of attempts.rows) byJob.set(a.job_id, [...(byJob.get(a.job_id) ?? []), a])
  const workerMs = jobs.rows.reduce((s, j) => s + Number(j.worker_ms), 0)
  const tokens = new Map<string, { model: string; inputTokens: number; outputTokens: number }>()
  for (const u of usage.rows) {
    const t = tokens.get(u.model) ?? { model: u.model, inputTokens: 0, outputTokens: 0 }
    t.inputTokens += Number(u.input_tokens)
    t.outputTokens += Number(u.output_tokens)
    tokens.set(u.model, t)
  }
  let priced: CostFigures | undefined
  if (price) {
    const poolOf = new Map(jobs.rows.map((j) => [j.id as string, j.pool as string]))
    const work = attempts.rows
      .filter((a) => a.duration_ms !== null)
      .map((a) => ({ pool: poolOf.get(a.job_id) ?? '', d: utcDay(a.started_at), ms: Number(a.duration_ms) }))
    const toks = usage.rows.map((u) => ({
      model: u.model,
      d: u.day,
      i: Number(u.input_tokens),
      o: Number(u.output_tokens),
    }))
    priced = price(work, toks)
  }
  return {
    ...runSummary(run),
    steps: jobs.rows.map((j) => jobView(j, byJob.get(j.id) ?? [])),
    cost: {
      workerSeconds: workerMs / 1000,
      tokens: [...tokens.values()],
      ...(priced && {
        currency: priced.currency,
        total: priced.total,
        infrastructure: priced.infrastructure,
        ai: priced.ai,
        unpriced: priced.unpriced,
      }),
    },
  }
}

/** The run's owner, for tenant checks (undefined: no such run). */
export async function runOwner(db: Queryable, id: string): Promise<string | undefined> {
  return (await db.query(SQL.getRun, [id])).rows[0]?.customer_id
}

export async function listRuns(
  db: Queryable,
  f: { customerId?: string; status?: string; projectId?: string; before?: string; limit: number },
) {
  const { rows } = await db.query(SQL.listRuns, [
    f.customerId ?? null,
    f.status ?? null,
    f.projectId ?? null,
    f.before ?? null,
    f.limit,
  ])
  return rows.map(runSummary)
}
