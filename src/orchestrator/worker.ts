// A worker: claims jobs of one pool (up to `concurrency` at once), runs their handlers, renews
// their leases and records the outcome. Used in-process by `serve` and by `steward worker`.
//
// Guarantees:
// - an idle worker is woken by LISTEN/NOTIFY when a job of its pool becomes ready (milliseconds),
//   and polls every `pollMs` anyway (delayed retries);
// - a lost LISTEN connection (PostgreSQL restart, killed backend, network) is released to the pool
//   as broken and re-established with backoff (0.5 s doubling to 30 s) while the worker runs; once
//   listening again the worker claims at once, as wake-ups may have been missed meanwhile;
// - leases are renewed every `heartbeatMs`; a job whose lease was lost (or that was cancelled)
//   is aborted through its AbortSignal and its result is never written;
// - a timeout aborts the handler's signal and counts as a transient failure;
// - stop(): no new claims; in-flight jobs get `shutdownGraceMs` to finish, then are aborted and
//   released to the queue without spending their attempt budget.
import { randomUUID } from 'node:crypto'
import { hostname } from 'node:os'
import type pg from 'pg'
import type { Pool } from '../db/postgres.ts'
import type { Logger } from '../log.ts'
import { AbortReason, abortable } from './abort.ts'
import type { OrchestratorConfig } from './config.ts'
import { classify, getHandler, type JobContext } from './handlers.ts'
import {
  heartbeatEvent,
  markLostWorkers,
  reclaimExpired,
  registerWorker,
  setWorkerStatus,
  workerHeartbeat,
} from './leases.ts'
import type { OrchestratorMetrics } from './metrics.ts'
import {
  claimJobs,
  failJob,
  type Lease,
  leaseKey,
  recordUsage,
  releaseJob,
  renewLeases,
  saveCheckpoint,
} from './queue.ts'
import { CANCEL_CHANNEL, JOBS_CHANNEL } from './settle.ts'
import { type Success, succeedJobs } from './succeed.ts'
import type { ClaimedJob, FailureClass } from './types.ts'

export interface WorkerOptions {
  pool: Pool
  config: OrchestratorConfig
  log: Logger
  /** The pool (queue) this worker serves. */
  poolName?: string
  concurrency?: number
  id?: string
  metrics?: OrchestratorMetrics
}

const RELISTEN_MIN_MS = 500
const RELISTEN_MAX_MS = 30_000

/** Successes committed in one transaction at most (the rest wait for the next). */
const MAX_BATCH = 64
/** Success commits of one worker under way at once (one waits for its WAL flush, one fills). */
const MAX_COMMITS = 2

interface Pending extends Success {
  settle: (r: { ok: boolean; next: ClaimedJob[] } | Error) => void
}

interface InFlight {
  job: ClaimedJob
  ac: AbortController
  done: Promise<void>
}

export class Worker {
  readonly id: string
  readonly poolName: string
  readonly concurrency: number
  private readonly running = new Map<string, InFlight>()
  private stopping = false
  private wakePending = false
  private wake?: () => void
  /** Closes the current LISTEN connection (set while listening). */
  private closeListener?: () => void
  private relistenTimer?: NodeJS.Timeout
  private relistenMs = RELISTEN_MIN_MS
  private timers: NodeJS.Timeout[] = []
  private loopDone?: Promise<void>
  private readonly pending: Pending[] = []
  private flushScheduled = false
  private commits = 0
  private readonly log: Logger

  constructor(private readonly o: WorkerOptions) {
    this.poolName = o.poolName ?? o.config.pool
    this.concurrency = o.concurrency ?? o.config.concurrency
    this.id = o.id ?? `${hostname()}-${process.pid}-${randomUUID().slice(0, 8)}`
    this.log = o.log.child({ worker: this.id, pool: this.poolName })
  }

  get inFlight(): number {
    return this.running.size
  }

  async start(): Promise<void> {
    await registerWorker(this.o.pool, this.id, this.poolName, this.concurrency)
    await this.listen()
    const c = this.o.config
    const every = (ms: number, fn: () => Promise<unknown>) => {
      const t = setInterval(
        () => fn().catch((err) => this.log.warn('worker task failed', { error: err })),
        ms,
      )
      t.unref()
      this.timers.push(t)
    }
    every(c.heartbeatMs, () => this.heartbeat())
    every(c.reclaimEveryMs, () => sweep(this.o.pool, c))
    every(c.heartbeatEventEveryMs, () => heartbeatEvent(this.o.pool, this.id, this.poolName))
    await heartbeatEvent(this.o.pool, this.id, this.poolName)
    this.loopDone = this.loop()
  }

  /** Stops claiming, lets in-flight jobs finish within the grace period, releases the rest. */
  async stop(graceMs = this.o.config.shutdownGraceMs): Promise<void> {
    if (this.stopping) return this.loopDone
    this.stopping = true
    await setWorkerStatus(this.o.pool, this.id, 'stopping').catch(() => {})
    this.signal()
    await this.loopDone
    const all = () => Promise.all([...this.running.values()].map((f) => f.done))
    let graceTimer: NodeJS.Timeout | undefined
    await Promise.race([all(), new Promise((r) => (graceTimer = setTimeout(r, graceMs)))])
    clearTimeout(graceTimer)
    for (const f of this.running.values()) f.ac.abort(new AbortReason('shutdown'))
    await all()
    for (const t of this.timers) clearInterval(t)
    clearTimeout(this.relistenTimer)
    // Closed rather than UNLISTENed: no round trip that a half-dead connection could hang, and no
    // LISTEN state handed back to the pool.
    this.closeListener?.()
    await setWorkerStatus(this.o.pool, this.id, 'stopped').catch(() => {})
  }

  /** LISTENs on a dedicated connection; on failure or loss, tries again with backoff. */
  private async listen(): Promise<void> {
    if (this.stopping) return
    let client: pg.PoolClient
    try {
      client = await this.o.pool.connect()
    } catch (err) {
      this.relisten(err)
      return
    }
    let dead = false
    // Released as broken either way: the pool closes it (never a checked-out client kept forever).
    const close = (err: Error) => {
      if (dead) return false
      dead = true
      if (this.closeListener === closeOnStop) this.closeListener = undefined
      client.removeAllListeners('notification')
      client.release(err)
      return true
    }
    const closeOnStop = () => void close(new Error('worker stopped'))
    const drop = (err: unknown) => {
      if (close(err instanceof Error ? err : new Error(String(err)))) this.relisten(err)
    }
    client.on('notification', (n) => {
      if (n.channel === JOBS_CHANNEL && n.payload === this.poolName) this.signal()
      if (n.channel === CANCEL_CHANNEL) {
        for (const id of (n.payload ?? '').split(','))
          for (const f of this.running.values()) if (f.job.id === id) f.ac.abort(new AbortReason('cancelled'))
      }
    })
    client.on('error', drop)
    client.on('end', () => drop(new Error('LISTEN connection ended')))
    try {
      await client.query(`LISTEN ${JOBS_CHANNEL}; LISTEN ${CANCEL_CHANNEL}`)
    } catch (err) {
      drop(err)
      return
    }
    if (dead) return
    if (this.stopping) return closeOnStop()
    if (this.relistenMs > RELISTEN_MIN_MS) this.log.info('LISTEN connection re-established')
    this.closeListener = closeOnStop
    this.relistenMs = RELISTEN_MIN_MS
    // Jobs that became ready while nobody listened sent their NOTIFY into the void.
    this.signal()
  }

  private relisten(err: unknown): void {
    if (this.stopping) return
    const ms = this.relistenMs
    this.relistenMs = Math.min(RELISTEN_MAX_MS, ms * 2)
    this.log.warn(`LISTEN connection lost; polling until it is re-established (retry in ${ms} ms)`, {
      error: err,
    })
    clearTimeout(this.relistenTimer)
    this.relistenTimer = setTimeout(() => void this.listen(), ms)
    this.relistenTimer.unref()
  }

  private signal(): void {
    this.wakePending = true
    this.wake?.()
  }

  private waitForWake(ms: number): Promise<void> {
    if (this.wakePending) return Promise.resolve()
    return new Promise((resolve) => {
      const t = setTimeout(done, ms)
      function done() {
        clearTimeout(t)
        resolve()
      }
      this.wake = done
    })
  }

  private async loop(): Promise<void> {
    const c = this.o.config
    while (!this.stopping) {
      this.wakePending = false
      const free = this.concurrency - this.running.size
      if (free > 0) {
        let jobs: ClaimedJob[] = []
        try {
          jobs = await claimJobs(this.o.pool, this.poolName, this.id, free, c.leaseMs)
        } catch (err) {
          this.log.warn('claim failed', { error: err })
        }
        if (this.stopping) {
          // Claimed while stop() began: hand them straight back.
          for (const j of jobs)
            await releaseJob(this.o.pool, { job: j, workerId: this.id }, 0).catch(() => {})
          break
        }
        for (const j of jobs) this.launch(j)
        if (jobs.length === free) continue
      }
      await this.waitForWake(c.pollMs)
    }
  }

  private launch(job: ClaimedJob): void {
    const ac = new AbortController()
    const entry: InFlight = { job, ac, done: Promise.resolve() }
    this.running.set(leaseKey(job), entry)
    entry.done = this.execute(job, ac)
      .catch((err) => {
        this.log.error('job bookkeeping failed', { jobId: job.id, error: err })
        return [] as ClaimedJob[]
      })
      .then(async (next) => {
        this.running.delete(leaseKey(job))
        // The next job, claimed with this one's result, takes its slot (or goes back if stopping).
        for (const j of next) {
          if (this.stopping) await releaseJob(this.o.pool, { job: j, workerId: this.id }, 0).catch(() => {})
          else this.launch(j)
        }
        this.signal()
      })
  }

  /** Runs one attempt and records its outcome; returns the next job when one was claimed with it. */
  private async execute(job: ClaimedJob, ac: AbortController): Promise<ClaimedJob[]> {
    const lease: Lease = { job, workerId: this.id }
    const pool = this.o.pool
    const lost = () => ac.abort(new AbortReason('lost'))
    const ctx: JobContext = {
      jobId: job.id,
      runId: job.run_id,
      stepKey: job.step_key,
      attempt: job.attempt,
      idempotencyKey: `${job.run_id}:${job.step_key}`,
      lastCheckpoint: job.checkpoint ?? undefined,
      signal: ac.signal,
      checkpoint: async (data) => {
        if (!(await saveCheckpoint(pool, lease, data))) {
          lost()
          throw ac.signal.reason
        }
      },
      heartbeat: async () => {
        const held = await renewLeases(pool, this.id, this.o.config.leaseMs, [job])
        if (!held.has(leaseKey(job))) {
          lost()
          throw ac.signal.reason
        }
      },
      reportUsage: (u) => recordUsage(pool, lease, u),
    }
    const timer = job.timeout_ms
      ? setTimeout(() => ac.abort(new AbortReason('timeout')), job.timeout_ms)
      : undefined
    const t0 = performance.now()
    const ms = () => performance.now() - t0
    // The handler's outcome first; bookkeeping errors (database down) are not handler failures:
    // they propagate, the lease is no longer renewed, and the job is reclaimed once it expires.
    let output: unknown
    let failure: unknown
    let ok = false
    try {
      const def = getHandler(job.kind)
      if (!def)
        throw Object.assign(new Error(`this worker has no handler for kind "${job.kind}"`), { infra: true })
      const parsed = def.inputSchema.safeParse(job.input ?? {})
      if (!parsed.success)
        throw Object.assign(new Error(`invalid input: ${parsed.error.message}`), { validation: true })
      output = await abortable(
        Promise.resolve().then(() => def.run(parsed.data, ctx)),
        ac.signal,
      )
      ok = true
    } catch (err) {
      failure = err
    } finally {
      clearTimeout(timer)
    }
    const elapsed = ms()
    if (ok) {
      const res = await this.succeed({ job, output, durationMs: elapsed })
      if (res.ok) this.o.metrics?.outcome(job, 'succeeded', undefined, elapsed)
      else this.log.warn('lease lost before the result was written; result discarded', { jobId: job.id })
      return res.next
    }
    const reason = ac.signal.aborted ? (ac.signal.reason as AbortReason) : undefined
    if (reason?.why === 'lost' || reason?.why === 'cancelled') {
      this.log.info(`job ${reason.why}; nothing written`, { jobId: job.id })
      return []
    }
    if (reason?.why === 'shutdown') {
      await releaseJob(pool, lease, elapsed)
      this.o.metrics?.outcome(job, 'reclaimed', 'infrastructure', elapsed)
      return []
    }
    let cls: FailureClass
    let message: string
    if (reason?.why === 'timeout') {
      cls = 'transient'
      message = `timed out after ${job.timeout_ms} ms`
    } else if ((failure as { infra?: boolean }).infra) {
      cls = 'infrastructure'
      message = (failure as Error).message
    } else if ((failure as { validation?: boolean }).validation) {
      cls = 'validation'
      message = (failure as Error).message
    } else ({ failureClass: cls, message } = classify(failure))
    const c = this.o.config
    const d = await failJob(pool, lease, cls, message, elapsed, {
      maxBackoffMs: c.retry.maxBackoffMs,
      maxReclaims: c.maxReclaims,
    })
    if (d) this.o.metrics?.outcome(job, d.action, cls, elapsed)
    // A short backoff should not wait for the next poll.
    if (d?.status === 'queued' && d.delayMs > 0 && d.delayMs < c.pollMs)
      setTimeout(() => this.signal(), d.delayMs + 1).unref()
    return []
  }

  /**
   * Queues a success for the next commit. Successes of one event-loop turn, and those that arrive
   * while `MAX_COMMITS` commits are under way, go together, each claiming the job that takes its slot.
   */
  private succeed(d: Success): Promise<{ ok: boolean; next: ClaimedJob[] }> {
    return new Promise((resolve, reject) => {
      this.pending.push({ ...d, settle: (r) => (r instanceof Error ? reject(r) : resolve(r)) })
      this.scheduleFlush()
    })
  }

  private scheduleFlush(): void {
    if (this.flushScheduled) return
    this.flushScheduled = true
    setImmediate(() => {
      this.flushScheduled = false
      void this.flush()
    })
  }

  private async flush(): Promise<void> {
    if (this.commits >= MAX_COMMITS || this.pending.length === 0) return
    this.commits++
    const batch = this.pending.splice(0, MAX_BATCH)
    const next = {
      poolName: this.poolName,
      limit: this.stopping ? 0 : batch.length,
      leaseMs: this.o.config.leaseMs,
    }
    try {
      const res = await succeedJobs(this.o.pool, this.id, batch, next)
      batch.forEach((b, i) => {
        const claimed = res.next[i]
        b.settle({ ok: res.written.has(leaseKey(b.job)), next: claimed ? [claimed] : [] })
      })
    } catch (err) {
      for (const b of batch) b.settle(err instanceof Error ? err : new Error(String(err)))
    } finally {
      this.commits--
      if (this.pending.length) this.scheduleFlush()
    }
  }

  private async heartbeat(): Promise<void> {
    await workerHeartbeat(this.o.pool, this.id)
    const jobs = [...this.running.values()].map((f) => f.job)
    const held = await renewLeases(this.o.pool, this.id, this.o.config.leaseMs, jobs)
    for (const j of jobs)
      if (!held.has(leaseKey(j))) this.running.get(leaseKey(j))?.ac.abort(new AbortReason('lost'))
  }
}

/** Reclaims expired leases and marks silent workers lost (any instance may run it). */
export async function sweep(pool: Pool, c: OrchestratorConfig): Promise<void> {
  await reclaimExpired(pool, c.maxReclaims)
  await markLostWorkers(pool, c.workerLostAfterMs)
}
