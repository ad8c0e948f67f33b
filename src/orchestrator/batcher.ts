// Calls that share one database statement or transaction (successes of a worker, concurrent run
// creations): those added in one event-loop turn, and those added while `maxInFlight` batches are
// under way (one waits for its WAL flush, one fills), go together in the next batch.

interface Pending<V, R> {
  value: V
  resolve: (r: R) => void
  reject: (e: Error) => void
}

const asError = (err: unknown) => (err instanceof Error ? err : new Error(String(err)))

export class Batcher<V, R> {
  private readonly pending: Pending<V, R>[] = []
  private flushScheduled = false
  private inFlight = 0

  /** `run(batch)`: the result of each value, in order (an Error fails that one); a throw fails all. */
  constructor(
    private readonly run: (batch: V[]) => Promise<(R | Error)[]>,
    private readonly limits: { maxBatch: number; maxInFlight: number },
  ) {}

  /** Resolves once the value's batch is done. */
  add(value: V): Promise<R> {
    return new Promise((resolve, reject) => {
      this.pending.push({ value, resolve, reject })
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
    if (this.inFlight >= this.limits.maxInFlight || this.pending.length === 0) return
    this.inFlight++
    const batch = this.pending.splice(0, this.limits.maxBatch)
    try {
      const results = await this.run(batch.map((p) => p.value))
      batch.forEach((p, i) => {
        const r = results[i] as R | Error
        if (r instanceof Error) p.reject(r)
        else p.resolve(r)
      })
    } catch (err) {
      for (const p of batch) p.reject(asError(err))
    } finally {
      this.inFlight--
      if (this.pending.length) this.scheduleFlush()
    }
  }
}
