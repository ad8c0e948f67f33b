// A worker: claims jobs of one pool (up to `concurrency` at once), runs their handlers, renews
// their leases and records the outcome. Used in-process by `serve` and by `steward worker`.
//
// Guarantees:
// - an idle worker is woken by LISTEN/NOTIFY when a job of its pool becomes ready (milliseconds),
//   and polls every `pollMs` anyway (delayed retries); a lost LISTEN connection is re-established
//   while the worker runs (listener.ts), and the worker claims at once when it listens again;
// - a slot is a running handler: it is free again as soon as the handler returns, and the next
//   claim (its own statement, claim.ts) runs while the result is being written; unless the last
//   claim left no queued job of the pool behind and no NOTIFY came since (a claim would find
//   nothing: the worker waits for the NOTIFY, or the poll). The successes
//   of one event-loop turn commit in one transaction (succeed.ts); a handler's result counts once
//   that commit is done. Until then the job is still `running` in PostgreSQL, so fair share and
//   caps count it: a worker may briefly hold more leases than slots, never more handlers;
// - leases are renewed every `heartbeatMs`; a job whose lease was lost (or that was cancelled)
//   is aborted through its AbortSignal and its result is never written;
// - leases are fenced locally (fence.ts): a handler whose lease this worker has not renewed within
//   `leaseFenceMs` (its own clock, from the last renewal PostgreSQL confirmed) is aborted before
//   the lease can expire, so a worker cut off from PostgreSQL stops its work before another worker
//   can reclaim it; nothing of that attempt is written (no result, no failure);
// - once a handler's signal has aborted, its heartbeat(), checkpoint() and reportUsage() throw the
//   signal's reason without writing; before that, a checkpoint or usage that PostgreSQL refuses
//   (lease not live: progress.ts) aborts the signal and throws;
// - a timeout aborts the handler's signal and counts as a transient failure;
// - stop(): no new claims; in-flight jobs get `shutdownGraceMs` to finish, then are aborted and
//   released to the queue without spending their attempt budget.
import { randomUUID } from 'node:crypto'
import { hostname } from 'node:os'
import type { Pool } from '../db/postgres.ts'
import type { Logger } from '../log.ts'
import { AbortReason, abortable } from './abort.ts'
import type { Batcher } from './batcher.ts'
import { claimBatch } from './claim.ts'
import { leaseFenceMs, type OrchestratorConfig } from './config.ts'
import { classify, InfrastructureError, JobValidationError } from './failures.ts'
import { LeaseFence } from './fence.ts'
import type { Handlers } from './handlers.ts'
import { jobContext } from './job-context.ts'
import {
  heartbeatEvent,
  markLostWorkers,
  reclaimExpired,
  registerWorker,
  setWorkerStatus,
  workerHeartbeat,
} from './leases.ts'
import { JobsListener } from './listener.ts'
import type { OrchestratorMetrics } from './metrics.ts'
import { failJob, type Lease, leaseKey, releaseJob, renewLeases } from './queue.ts'
import type { FailureClass } from './schemas.ts'
import { type Success, successBatcher } from './succeed.ts'
import type { ClaimedJob } from './types.ts'
import { Wakeup } from './wakeup.ts'

export interface WorkerOptions {
  pool: Pool
  config: OrchestratorConfig
  log: Logger
  /** The pool (queue) this worker serves. */
  poolName?: string
  concurrency?: number
  id?: string
  metrics?: OrchestratorMetrics
  /** The kinds this worker runs (`handlerSet(egress, applicationKinds)`); a job of another kind is
   *  an infrastructure failure, re-queued for a worker that has it. */
  handlers: Handlers
}

interface InFlight {
  job: ClaimedJob
  ac: AbortController
  fence: LeaseFence
  done: Promise<void>
}

export class Worker {
  readonly id: string
  readonly poolName: string
  readonly concurrency: number
  /** Jobs leased to this worker: their handlers running, or their outcomes being written. */
  private readonly running = new Map<string, InFlight>()
  /** Handlers running: the slots taken. */
  private busy = 0
  private stopping = false
  private readonly wakeup = new Wakeup()
  private readonly listener: JobsListener
  private timers: NodeJS.Timeout[] = []
  private loopDone?: Promise<void>
  private readonly successes: Batcher<Success, boolean>
  private readonly log: Logger

  constructor(private readonly o: WorkerOptions) {
    this.poolName = o.poolName ?? o.config.pool
    this.concurrency = o.concurrency ?? o.config.concurrency
    this.id = o.id ?? `${hostname()}-${process.pid}-${randomUUID().slice(0, 8)}`
    this.log = o.log.child({ worker: this.id, pool: this.poolName })
    this.successes = successBatcher(o.pool, this.id)
    this.listener = new JobsListener(o.pool, this.log, {
      onJobs: (pool) => pool === this.poolName && this.wakeup.notice(),
      onCancelled: (ids) => {
        for (const f of this.running.values())
          if (ids.includes(f.job.id)) f.ac.abort(new AbortReason('cancelled'))
      },
      // Jobs that became ready while nobody listened sent their NOTIFY into the void.
      onListening: () => this.wakeup.notice(),
    })
  }

  /** Slots any customer may take: the concurrency less the headroom (at most concurrency − 1) less the busy. */
  private openSlots(): number {
    const headroom = Math.min(this.o.config.headroomSlots, this.concurrency - 1)
    return Math.max(0, this.concurrency - headroom - this.busy)
  }

  get inFlight(): number {
    return this.running.size
  }

  async start(): Promise<void> {
    await registerWorker(this.o.pool, this.id, this.poolName, this.concurrency)
    await this.listener.listen()
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
    this.wakeup.signal()
    await this.loopDone
    const all = () => Promise.all([...this.running.values()].map((f) => f.done))
    let graceTimer: NodeJS.Timeout | undefined
    await Promise.race([all(), new Promise((r) => (graceTimer = setTimeout(r, graceMs)))])
    clearTimeout(graceTimer)
    for (const f of this.running.values()) f.ac.abort(new AbortReason('shutdown'))
    await all()
    for (const t of this.timers) clearInterval(t)
    this.listener.close()
    await setWorkerStatus(this.o.pool, this.id, 'stopped').catch(() => {})
  }

  private async loop(): Promise<void> {
    const c = this.o.config
    while (!this.stopping) {
      this.wakeup.begin()
      const free = this.concurrency - this.busy
      if (free > 0) {
        let jobs: ClaimedJob[] = []
        const from = performance.now()
        const answered = this.wakeup.claiming()
        try {
          let more: boolean
          ;({ jobs, more } = await claimBatch(
            this.o.pool,
            this.poolName,
            this.id,
            free,
            c.leaseMs,
            this.openSlots(),
          ))
          answered(more)
        } catch (err) {
          // Nothing known of the queue: freed slots claim again, as after a claim that left jobs.
          answered(true)
          this.log.warn('claim failed', { error: err })
        }
        if (this.stopping) {
          // Claimed while stop() began: hand them straight back.
          for (const j of jobs)
            await releaseJob(this.o.pool, { job: j, workerId: this.id }, 0).catch(() => {})
          break
        }
        for (const j of jobs) this.launch(j, from)
        if (jobs.length === free) continue
      }
      await this.wakeup.wait(c.pollMs)
    }
  }

  /** Starts a job whose lease began no earlier than `leaseFrom` (performance.now()). */
  private launch(job: ClaimedJob, leaseFrom: number): void {
    const ac = new AbortController()
    const holdMs = leaseFenceMs(this.o.config)
    const fence = new LeaseFence(holdMs, leaseFrom, (silentMs) =>
      ac.abort(
        new AbortReason(
          'fenced',
          `lease not renewed for ${Math.round(silentMs)} ms (fence at ${holdMs} ms of a ${this.o.config.leaseMs} ms lease): stopped before another worker may reclaim the job`,
        ),
      ),
    )
    const entry: InFlight = { job, ac, fence, done: Promise.resolve() }
    this.running.set(leaseKey(job), entry)
    this.busy++
    let slotTaken = true
    const freeSlot = () => {
      if (!slotTaken) return
      slotTaken = false
      this.busy--
      this.wakeup.slotFreed()
    }
    entry.done = this.execute(job, ac, fence, freeSlot)
      .catch((err) => this.log.error('job bookkeeping failed', { jobId: job.id, error: err }))
      .finally(() => {
        fence.clear()
        this.running.delete(leaseKey(job))
        freeSlot()
      })
  }

  /** Runs one attempt (`freeSlot` once its handler returned) and records its outcome. */
  private async execute(job: ClaimedJob, ac: AbortController, fence: LeaseFence, freeSlot: () => void) {
    const lease: Lease = { job, workerId: this.id }
    const pool = this.o.pool
    const ctx = jobContext(pool, lease, this.o.config.leaseMs, ac, fence)
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
      const def = this.o.handlers.get(job.kind)
      if (!def) throw new InfrastructureError(`this worker has no handler for kind "${job.kind}"`)
      const parsed = def.inputSchema.safeParse(job.input ?? {})
      if (!parsed.success) throw new JobValidationError(`invalid input: ${parsed.error.message}`)
      output = await abortable(
        Promise.resolve().then(() => def.run(parsed.data, ctx)),
        ac.signal,
      )
      ok = true
    } catch (err) {
      failure = err
    } finally {
      clearTimeout(timer)
      // The handler is done: what follows is bookkeeping, fenced by the lease in SQL, outside the slot.
      fence.clear()
      freeSlot()
    }
    const elapsed = ms()
    if (ok) {
      if (await this.successes.add({ job, output, durationMs: elapsed }))
        this.o.metrics?.outcome(job, 'succeeded', undefined, elapsed)
      else this.log.warn('lease lost before the result was written; result discarded', { jobId: job.id })
      return
    }
    const reason = ac.signal.aborted ? (ac.signal.reason as AbortReason) : undefined
    if (reason?.why === 'fenced') {
      // PostgreSQL may be unreachable: the job is reclaimed once its lease expires.
      this.log.warn('lease not renewed in time; handler aborted, nothing written', {
        jobId: job.id,
        attempt: job.attempt,
        reason: reason.message,
      })
      return
    }
    if (reason?.why === 'lost' || reason?.why === 'cancelled') {
      this.log.info(`job ${reason.why}; nothing written`, { jobId: job.id })
      return
    }
    if (reason?.why === 'shutdown') {
      await releaseJob(pool, lease, elapsed)
      this.o.metrics?.outcome(job, 'reclaimed', 'infrastructure', elapsed)
      return
    }
    let cls: FailureClass
    let message: string
    if (reason?.why === 'timeout') {
      cls = 'transient'
      message = `timed out after ${job.timeout_ms} ms`
    } else ({ failureClass: cls, message } = classify(failure))
    const c = this.o.config
    const d = await failJob(pool, lease, cls, message, elapsed, {
      maxBackoffMs: c.retry.maxBackoffMs,
      maxReclaims: c.maxReclaims,
    })
    if (d) this.o.metrics?.outcome(job, d.action, cls, elapsed)
    // A short backoff should not wait for the next poll.
    if (d?.status === 'queued' && d.delayMs > 0 && d.delayMs < c.pollMs)
      setTimeout(() => this.wakeup.notice(), d.delayMs + 1).unref()
  }

  private async heartbeat(): Promise<void> {
    await workerHeartbeat(this.o.pool, this.id)
    const jobs = [...this.running.values()].map((f) => f.job)
    const from = performance.now()
    const held = await renewLeases(this.o.pool, this.id, this.o.config.leaseMs, jobs)
    for (const j of jobs) {
      const f = this.running.get(leaseKey(j))
      if (held.has(leaseKey(j))) f?.fence.renewed(from)
      else f?.ac.abort(new AbortReason('lost'))
    }
  }
}

/** Reclaims expired leases and marks silent workers lost (any instance may run it). */
export async function sweep(pool: Pool, c: OrchestratorConfig): Promise<void> {
  await reclaimExpired(pool, c.maxReclaims)
  await markLostWorkers(pool, c.workerLostAfterMs)
}
