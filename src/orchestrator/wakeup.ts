// When a worker's claim loop runs again: at once after a signal (a freed slot, stop()), or a
// notice that a job of its pool may have become ready (NOTIFY, listening again, a short backoff
// over); else after the poll interval. A freed slot wakes it only while a claim may find
// something: not after a claim that left no queued job of the pool behind, until the next notice.

export class Wakeup {
  private pending = false
  private wake?: () => void
  private notices = 0
  /** The last claim left no queued job behind, and no notice came since. */
  private drained = false

  /** Wakes the loop now, or as soon as it waits. */
  signal(): void {
    this.pending = true
    this.wake?.()
  }

  /** A job of the pool may have become ready. */
  notice(): void {
    this.notices++
    this.drained = false
    this.signal()
  }

  /** A slot freed: wakes the loop unless a claim would find nothing. */
  slotFreed(): void {
    if (!this.drained) this.signal()
  }

  /** The loop runs: signals from now on count for its next wait. */
  begin(): void {
    this.pending = false
  }

  /** Before a claim; the function returned records its answer (`more`: it left queued jobs behind). */
  claiming(): (more: boolean) => void {
    const notices = this.notices
    // A notice while the claim ran may be a job its snapshot did not see.
    return (more) => {
      this.drained = !more && this.notices === notices
    }
  }

  /** Resolves on the next signal (at once if one came since begin()), or after `ms`. */
  wait(ms: number): Promise<void> {
    if (this.pending) return Promise.resolve()
    return new Promise((resolve) => {
      const t = setTimeout(done, ms)
      function done() {
        clearTimeout(t)
        resolve()
      }
      this.wake = done
    })
  }
}
