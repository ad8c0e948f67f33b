// The local fence of one lease: the worker's own bound on how long a handler may run without a
// renewal of its lease that PostgreSQL confirmed.
//
// Guarantees:
// - a lease's expiry is set by PostgreSQL as `now() + leaseMs`, where `now()` is no earlier than
//   the moment the worker sent the statement (claim or renewal). The fence counts from that
//   moment, on the worker's monotonic clock: it fires `leaseFenceMs` (leaseMs - margin) after the
//   sending of the last claim or renewal that succeeded, so before the lease can expire and the
//   job be reclaimed by another worker, whatever happened to the network or to PostgreSQL;
// - a renewal whose answer never came does not extend the fence (it may or may not have been
//   applied); answers arriving out of order keep the latest sending time;
// - once fired, a fence stays fired: a late answer does not revive the handler it stopped.
//
// The margin is what the guarantee rests on: it must cover a timer firing late (a blocked event
// loop), the two clocks' drift over one lease, and the time the handler takes to stop its work
// once its signal aborts.

export class LeaseFence {
  private deadline: number
  private timer?: NodeJS.Timeout
  private fired = false

  /**
   * @param holdMs how long the lease is honoured after a renewal was sent (leaseFenceMs)
   * @param from when the claim that started the lease was sent (performance.now())
   * @param onFenced called once, when the fence fires
   */
  constructor(
    private readonly holdMs: number,
    from: number,
    private readonly onFenced: (silentMs: number) => void,
  ) {
    this.deadline = from + holdMs
    this.arm()
  }

  /** A renewal sent at `from` (performance.now()) was confirmed by PostgreSQL. */
  renewed(from: number): void {
    if (!this.fired) this.deadline = Math.max(this.deadline, from + this.holdMs)
  }

  /** The job finished (or was stopped otherwise): the fence has nothing left to guard. */
  clear(): void {
    clearTimeout(this.timer)
    this.fired = true
  }

  // One timer per lease, re-armed when it fires before a deadline that renewals pushed back.
  private arm(): void {
    const wait = this.deadline - performance.now()
    if (wait <= 0) {
      this.fired = true
      this.onFenced(performance.now() - (this.deadline - this.holdMs))
      return
    }
    this.timer = setTimeout(() => this.arm(), Math.ceil(wait))
    this.timer.unref()
  }
}
