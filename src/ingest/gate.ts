// The door every ingest route passes (POST /v1/events and the OTLP receiver), and the write behind
// it. At most `maxConcurrentRequests` bodies are read at once, all routes together (more get 429
// with Retry-After instead of queueing), and none while the outbox holds `maxBacklog` rows or more
// (503: ClickHouse has likely been down a long time), so memory stays bounded whatever the senders
// do. The write is the group commit's: durable in PostgreSQL, or a 503 saying nothing was stored.
import { BackpressureError } from '../errors.ts'
import type { GroupCommitter, SubmitResult } from './group-commit.ts'
import type { EventSource, OutboxItem, OutboxLag } from './outbox.ts'

export interface GateOptions {
  maxConcurrentRequests: number
  maxBacklog: number
  /** The outbox lag, cached briefly (routes must not count the outbox per request). */
  lag: () => Promise<OutboxLag>
}

export class IngestGate {
  private reading = 0

  constructor(private readonly o: GateOptions) {}

  /** Lets one body in (or refuses: 429 too many being read, 503 backlog); call the result when read. */
  async enter(): Promise<() => void> {
    const max = this.o.maxConcurrentRequests
    if (this.reading >= max)
      throw new BackpressureError(
        'rate_limited',
        `${this.reading} request bodies are being read already (at most ${max} at once)`,
        1,
      )
    this.reading++
    let inside = true
    const leave = () => {
      if (inside) this.reading--
      inside = false
    }
    // Lag unknown (PostgreSQL unreachable): go on, the write itself will answer 503.
    const lag = await this.o.lag().catch(() => undefined)
    if (lag && lag.backlog >= this.o.maxBacklog) {
      leave()
      throw new BackpressureError(
        'unavailable',
        `the telemetry backlog (${lag.backlog} rows, oldest ${Math.round(lag.oldestAgeSeconds)} s) is past its bound; ClickHouse may be unavailable`,
        30,
      )
    }
    return leave
  }
}

/**
 * Writes `items` through the group commit; resolves once they are durable. Throws 429 when writes
 * are saturated, and 503 (nothing stored, retry) when PostgreSQL refuses the write.
 */
export async function writeDurably(
  committer: GroupCommitter,
  items: readonly OutboxItem[],
  source: EventSource,
  onWriteError: (err: unknown) => void,
): Promise<SubmitResult> {
  try {
    return await committer.submit(items, source)
  } catch (err) {
    if (err instanceof BackpressureError) throw err
    onWriteError(err)
    throw new BackpressureError(
      'unavailable',
      'the data could not be stored right now; nothing was stored, retry',
      5,
    )
  }
}
