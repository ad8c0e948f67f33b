// Scheduled jobs (node-cron, UTC) that run once per tick across every Steward instance.
//
// Guarantees:
// - one run per (job, scheduled minute) across all instances: the run is claimed by inserting
//   its unique row in `scheduled_runs`; an instance that loses the insert skips the tick;
// - runs of one job never overlap, across instances: a PostgreSQL advisory lock (per job) is
//   held on a dedicated connection for the whole run;
// - every run is recorded (start, end, outcome, error, detail);
// - a missed window is caught up: on start, a job whose latest due tick has no successful run
//   (the instance was down) runs once for that tick. Jobs are written to cover every window
//   since their last success, so one catch-up run is enough.
import cron, { type ScheduledTask } from 'node-cron'
import type { Pool, Queryable } from '../db/postgres.ts'
import type { Logger } from '../log.ts'

export interface JobContext {
  /** The tick this run is for (UTC, whole minute). */
  scheduledFor: Date
  signal: AbortSignal
}

export interface ScheduledJob {
  name: string
  /** Five-field cron expression, evaluated in UTC. */
  cron: string
  run(ctx: JobContext): Promise<Record<string, unknown> | undefined>
  /** Catch up a missed tick on start (default true). */
  catchUp?: boolean
}

export type RunOutcome =
  | { status: 'succeeded'; detail?: Record<string, unknown> }
  | { status: 'failed'; error: string }
  | { status: 'skipped'; reason: 'locked' | 'already-ran' }

export interface Scheduler {
  register(job: ScheduledJob): void
  start(): Promise<void>
  stop(): Promise<void>
  /** Runs a job now for `scheduledFor` (default: this minute) under the same once-only guard. */
  runNow(name: string, scheduledFor?: Date): Promise<RunOutcome>
  jobs(): ScheduledJob[]
}

const SQL = {
  tryLock: 'SELECT pg_try_advisory_lock(hashtext($1)) AS ok',
  unlock: 'SELECT pg_advisory_unlock(hashtext($1))',
  claim: `INSERT INTO scheduled_runs (job, scheduled_for, instance) VALUES ($1, $2, $3)
          ON CONFLICT (job, scheduled_for) DO NOTHING RETURNING id`,
  succeeded: `UPDATE scheduled_runs SET finished_at = now(), outcome = 'succeeded', detail = $2 WHERE id = $1`,
  failed: `UPDATE scheduled_runs SET finished_at = now(), outcome = 'failed', error = $2 WHERE id = $1`,
  succeededSince: `SELECT 1 FROM scheduled_runs WHERE job = $1 AND scheduled_for >= $2 AND outcome = 'succeeded' LIMIT 1`,
  firstRunAfter: `SELECT min(started_at) AS at FROM scheduled_runs WHERE started_at > $1 AND instance <> $2`,
}

/**
 * When the scheduler's ticks resumed on an instance other than `instance` after `after` (the first
 * run any other instance started), or null: the end of a control-plane failover (docs/sla.md).
 */
export async function ticksResumedAfter(db: Queryable, after: Date, instance: string): Promise<Date | null> {
  const { rows } = await db.query<{ at: Date | null }>(SQL.firstRunAfter, [after, instance])
  return rows[0]?.at ?? null
}

const lockKey = (name: string) => `steward:job:${name}`
const floorMinute = (d: Date) => new Date(Math.floor(d.getTime() / 60_000) * 60_000)

export class InvalidCronError extends Error {
  override name = 'InvalidCronError'
}

export function createScheduler(opts: {
  pool: Pool
  log: Logger
  instanceId: string
  enabled?: boolean
}): Scheduler {
  const registered = new Map<string, ScheduledJob>()
  const tasks: ScheduledTask[] = []
  const abort = new AbortController()
  const running = new Set<Promise<unknown>>()

  async function execute(job: ScheduledJob, when: Date): Promise<RunOutcome> {
    const scheduledFor = floorMinute(when)
    const client = await opts.pool.connect()
    try {
      const { rows } = await client.query<{ ok: boolean }>(SQL.tryLock, [lockKey(job.name)])
      if (!rows[0]?.ok) return { status: 'skipped', reason: 'locked' }
      try {
        const claim = await client.query<{ id: number }>(SQL.claim, [job.name, scheduledFor, opts.instanceId])
        const id = claim.rows[0]?.id
        if (id === undefined) return { status: 'skipped', reason: 'already-ran' }
        try {
          const detail = (await job.run({ scheduledFor, signal: abort.signal })) ?? undefined
          await client.query(SQL.succeeded, [id, detail ? JSON.stringify(detail) : null])
          return { status: 'succeeded', detail }
        } catch (err) {
          const message = (err as Error)?.message ?? String(err)
          opts.log.error('scheduled job failed', { job: job.name, scheduledFor, error: message })
          await client.query(SQL.failed, [id, message.slice(0, 4000)])
          return { status: 'failed', error: message }
        }
      } finally {
        await client.query(SQL.unlock, [lockKey(job.name)])
      }
    } finally {
      client.release()
    }
  }

  function track<T>(p: Promise<T>): Promise<T> {
    running.add(p)
    p.finally(() => running.delete(p)).catch(() => {})
    return p
  }

  /** The latest minute at or before `now` that matches the job's expression (scanning back ≤ 45 days). */
  function lastDueTick(task: ScheduledTask, now: Date): Date | undefined {
    const start = floorMinute(now).getTime()
    for (let i = 0; i < 45 * 24 * 60; i++) {
      const d = new Date(start - i * 60_000)
      if (task.match(d)) return d
    }
    return undefined
  }

  async function catchUp(job: ScheduledJob, task: ScheduledTask): Promise<void> {
    const due = lastDueTick(task, new Date())
    if (!due) return
    const { rows } = await opts.pool.query(SQL.succeededSince, [job.name, due])
    if (rows.length) return
    opts.log.info('catching up a missed scheduled run', { job: job.name, scheduledFor: due })
    // A failed earlier claim of this tick holds the unique row: retry under a fresh minute instead.
    const outcome = await execute(job, due)
    if (outcome.status === 'skipped' && outcome.reason === 'already-ran') await execute(job, new Date())
  }

  return {
    register(job) {
      if (registered.has(job.name)) throw new Error(`scheduled job ${job.name} registered twice`)
      if (!cron.validate(job.cron) || job.cron.trim().split(/\s+/).length !== 5) {
        throw new InvalidCronError(
          `scheduled job ${job.name}: "${job.cron}" is not a five-field cron expression`,
        )
      }
      registered.set(job.name, job)
    },
    async start() {
      if (opts.enabled === false) return
      for (const job of registered.values()) {
        const task = cron.schedule(
          job.cron,
          (ctx) => {
            track(execute(job, ctx.date)).catch((err) =>
              opts.log.error('scheduled job could not be claimed', {
                job: job.name,
                error: (err as Error).message,
              }),
            )
          },
          { timezone: 'UTC', name: job.name, noOverlap: false },
        )
        tasks.push(task)
        if (job.catchUp !== false) {
          track(catchUp(job, task)).catch((err) =>
            opts.log.error('scheduled job catch-up failed', { job: job.name, error: (err as Error).message }),
          )
        }
      }
    },
    async stop() {
      for (const t of tasks) await t.destroy()
      tasks.length = 0
      abort.abort()
      await Promise.allSettled([...running])
    },
    async runNow(name, scheduledFor = new Date()) {
      const job = registered.get(name)
      if (!job) throw new Error(`no scheduled job named ${name}`)
      return track(execute(job, scheduledFor))
    },
    jobs: () => [...registered.values()],
  }
}
