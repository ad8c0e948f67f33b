// A worker's LISTEN connection: NOTIFY wake-ups (`steward_jobs`, payload = pool) and cancellations
// (`steward_cancel`, payload = job ids).
//
// Guarantees:
// - a lost connection (PostgreSQL restart, killed backend, network) is released to the pool as
//   broken, so the pool closes it instead of keeping a checked-out client forever;
// - it is re-established with backoff (0.5 s doubling to 30 s) until close(); `onListening` runs
//   each time listening (re)starts, as wake-ups may have been missed meanwhile;
// - close() makes no round trip (a half-dead connection cannot hang it) and hands no LISTEN state
//   back to the pool: the connection is closed.
import type pg from 'pg'
import type { Pool } from '../db/postgres.ts'
import type { Logger } from '../log.ts'
import { CANCEL_CHANNEL, JOBS_CHANNEL } from './settle.ts'

const SQL = {
  listen: `LISTEN ${JOBS_CHANNEL}; LISTEN ${CANCEL_CHANNEL}`,
}

const RELISTEN_MIN_MS = 500
const RELISTEN_MAX_MS = 30_000

export interface ListenerHandlers {
  /** A job of this pool became ready. */
  onJobs(pool: string): void
  onCancelled(jobIds: string[]): void
  onListening(): void
}

export class JobsListener {
  private closed = false
  private retryTimer?: NodeJS.Timeout
  private retryMs = RELISTEN_MIN_MS
  private closeClient?: () => void

  constructor(
    private readonly pool: Pool,
    private readonly log: Logger,
    private readonly on: ListenerHandlers,
  ) {}

  /** LISTENs on a dedicated connection; on failure or loss, tries again with backoff. */
  async listen(): Promise<void> {
    if (this.closed) return
    let client: pg.PoolClient
    try {
      client = await this.pool.connect()
    } catch (err) {
      this.retry(err)
      return
    }
    let dead = false
    const release = (err: Error) => {
      if (dead) return false
      dead = true
      if (this.closeClient === closeNow) this.closeClient = undefined
      client.removeAllListeners('notification')
      client.release(err)
      return true
    }
    const closeNow = () => void release(new Error('listener closed'))
    const drop = (err: unknown) => {
      if (release(err instanceof Error ? err : new Error(String(err)))) this.retry(err)
    }
    client.on('notification', (n) => {
      if (n.channel === JOBS_CHANNEL) this.on.onJobs(n.payload ?? '')
      if (n.channel === CANCEL_CHANNEL) this.on.onCancelled((n.payload ?? '').split(','))
    })
    client.on('error', drop)
    client.on('end', () => drop(new Error('LISTEN connection ended')))
    try {
      await client.query(SQL.listen)
    } catch (err) {
      drop(err)
      return
    }
    if (dead) return
    if (this.closed) return closeNow()
    if (this.retryMs > RELISTEN_MIN_MS) this.log.info('LISTEN connection re-established')
    this.closeClient = closeNow
    this.retryMs = RELISTEN_MIN_MS
    this.on.onListening()
  }

  close(): void {
    this.closed = true
    clearTimeout(this.retryTimer)
    this.closeClient?.()
  }

  private retry(err: unknown): void {
    if (this.closed) return
    const ms = this.retryMs
    this.retryMs = Math.min(RELISTEN_MAX_MS, ms * 2)
    this.log.warn(`LISTEN connection lost; polling until it is re-established (retry in ${ms} ms)`, {
      error: err,
    })
    clearTimeout(this.retryTimer)
    this.retryTimer = setTimeout(() => void this.listen(), ms)
    this.retryTimer.unref()
  }
}
