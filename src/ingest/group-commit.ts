// Group commit for HTTP ingest: concurrent requests share one PostgreSQL write (one statement,
// one transaction, one WAL flush) instead of paying a commit each.
//
// Guarantees:
// - a request's promise resolves only after the write holding its events committed (durable:
//   the outbox and the eventId record are in PostgreSQL); if that write fails, every request in
//   it is rejected and nothing of theirs was stored (one statement: all or nothing);
// - memory is bounded: events waiting for a write never exceed `maxPendingEvents`; past that,
//   `submit` refuses at once (the route answers 429 with Retry-After) instead of queueing.
import type { Pool } from '../db/postgres.ts'
import { BackpressureError } from '../errors.ts'
import type { TelemetryEvent } from './events.ts'
import { appendValidEvents, type EventSource, eventKey } from './outbox.ts'

/** One write takes at most this many events; a bigger queue is written in several. */
const MAX_EVENTS_PER_WRITE = 20_000

export interface SubmitResult {
  appended: number
  duplicates: number
}

interface Waiter {
  events: TelemetryEvent[]
  source: EventSource
  resolve(r: SubmitResult): void
  reject(err: unknown): void
}

export class GroupCommitter {
  private queue: Waiter[] = []
  private queuedEvents = 0
  private writing: Promise<void> | undefined
  /** Writes (statements) so far: fewer than requests when requests shared them. */
  writes = 0

  constructor(
    private readonly pool: Pool,
    private readonly maxPendingEvents: number,
    private readonly onCommit: () => void = () => {},
  ) {}

  /** Events waiting for (or in) a write. */
  get pending(): number {
    return this.queuedEvents
  }

  /** Queues `events` (all said by `source`) for the next write; resolves once they are durable. */
  submit(events: TelemetryEvent[], source: EventSource): Promise<SubmitResult> {
    if (this.queuedEvents > 0 && this.queuedEvents + events.length > this.maxPendingEvents) {
      return Promise.reject(
        new BackpressureError(
          'rate_limited',
          `ingest is saturated (${this.queuedEvents} events waiting to be written)`,
          1,
        ),
      )
    }
    this.queuedEvents += events.length
    const done = new Promise<SubmitResult>((resolve, reject) =>
      this.queue.push({ events, source, resolve, reject }),
    )
    this.writing ??= this.writeAll()
    return done
  }

  /** Resolves when everything submitted so far is written (shutdown). */
  async flush(): Promise<void> {
    while (this.writing) await this.writing
  }

  private async writeAll(): Promise<void> {
    // Requests arriving while a write is in flight queue up and go together in the next one.
    while (this.queue.length > 0) {
      const group: Waiter[] = []
      let size = 0
      while (
        this.queue.length > 0 &&
        (group.length === 0 || size + this.queue[0]!.events.length <= MAX_EVENTS_PER_WRITE)
      ) {
        const w = this.queue.shift()!
        group.push(w)
        size += w.events.length
      }
      try {
        this.writes++
        const { appendedKeys } = await appendValidEvents(
          this.pool,
          group.flatMap((w) => w.events),
          group.flatMap((w) => w.events.map(() => w.source)),
        )
        // Attribute each written event to the first request that carried it; the rest are duplicates.
        for (const w of group) {
          let appended = 0
          for (const e of w.events) if (appendedKeys.delete(eventKey(e.customerId, e.eventId))) appended++
          w.resolve({ appended, duplicates: w.events.length - appended })
        }
        this.onCommit()
      } catch (err) {
        for (const w of group) w.reject(err)
      } finally {
        this.queuedEvents -= size
      }
    }
    this.writing = undefined
  }
}
