// The outbox relay: ships telemetry from the PostgreSQL outbox to ClickHouse `events` in batches.
//
// Guarantees:
// - nothing is lost: an outbox row is deleted only after ClickHouse acknowledged the insert that
//   carried it; while ClickHouse fails, rows stay (the outbox grows) and the relay backs off
//   (exponential, with jitter) and then catches up in full batches;
// - nothing is shipped twice: a batch is claimed (its rows stamped with a batch token, committed)
//   before the insert and never changes afterwards; every attempt to ship it, by this relay or by
//   another that takes over an expired claim (its relay died mid-insert), sends the same rows with
//   the same insert_deduplication_token, which `events` and every rollup table (see
//   schemas/clickhouse/011_rollup_dedup.sql) drop as a duplicate;
// - several relays (serve instances) run at once: new batches are claimed with SKIP LOCKED, an
//   expired batch is taken over by one relay only (its lease row is locked), and deleting a batch
//   someone else already deleted is a no-op;
// - one bad row never holds the pipeline: a body that is not a valid event (written by hand, or
//   by an older version) is set aside in telemetry_outbox_dead, with the reason, when its batch
//   ships; so is a row ClickHouse itself refuses (found by bisecting the insert it was in, see
//   relay-insert.ts), while the rest of its batch ships. The decisions are deterministic, so every
//   attempt at a batch sends the same inserts with the same tokens. While ClickHouse is down or
//   refusing for a passing reason nothing is set aside: the relay backs off and retries.
import { randomUUID } from 'node:crypto'
import type { ClickHouseClient } from '../db/clickhouse.ts'
import type { Pool } from '../db/postgres.ts'
import type { Logger } from '../log.ts'
import type { IngestConfig } from './config.ts'
import { TelemetryEvent } from './events.ts'
import type { IngestMetrics } from './metrics.ts'
import { type BatchRow, type RefusedRow, sendBatch } from './relay-insert.ts'
import {
  type Batch,
  claimBatch,
  finishBatch,
  nextBatch,
  recordSplit,
  releaseLease,
  renewLease,
  takeOverBatch,
} from './relay-store.ts'
import { toRow } from './rows.ts'

type RelayConfig = IngestConfig['relay']

export interface RelayStatus {
  state: 'stopped' | 'idle' | 'shipping' | 'backing_off'
  consecutiveFailures: number
  lastError?: string
  lastShippedAt?: string
  shipped: number
  /** Outbox rows this relay set aside (telemetry_outbox_dead): not valid events, or refused by ClickHouse. */
  deadLettered: number
}

export interface RelayOptions {
  pool: Pool
  clickhouse: ClickHouseClient
  config: RelayConfig
  log: Logger
  instanceId: string
  metrics?: IngestMetrics
}

export class OutboxRelay {
  private running = false
  private loop: Promise<void> | undefined
  private wake: (() => void) | undefined
  /** This relay's claimed batch that ClickHouse has not acknowledged yet (retried as is). */
  private pending: Batch | undefined
  private readonly st: RelayStatus = {
    state: 'stopped',
    consecutiveFailures: 0,
    shipped: 0,
    deadLettered: 0,
  }

  constructor(private readonly o: RelayOptions) {}

  status(): RelayStatus {
    return { ...this.st }
  }

  start(): void {
    if (this.running) return
    this.running = true
    this.st.state = 'idle'
    this.loop = this.run()
  }

  /** Finishes the batch in flight (or gives its claim up to another relay) and stops. */
  async stop(): Promise<void> {
    if (!this.running) return
    this.running = false
    this.wake?.()
    await this.loop
    if (this.pending) {
      await releaseLease(this.o.pool, this.pending.token).catch(() => {})
      this.pending = undefined
    }
    this.st.state = 'stopped'
  }

  /** Looks at the outbox now instead of at the next poll (new events were just committed). */
  nudge(): void {
    // Not while backing off: new events must not hammer a ClickHouse that is failing.
    if (this.st.state !== 'backing_off') this.wake?.()
  }

  /**
   * Ships one batch if one is due (or `force`: whatever waits, however young); returns the rows
   * shipped. Throws when ClickHouse refuses; the batch is then retried by the next call.
   */
  async shipOnce(force = false): Promise<number> {
    const batch = this.pending ?? (await this.takeOver()) ?? (await this.claimNew(force))
    if (!batch) return 0
    this.pending = batch
    const shipped = await this.ship(batch)
    this.pending = undefined
    return shipped ? batch.rows.length : 0
  }

  /** Ships until the outbox holds nothing this relay can claim (tests, benchmarks, shutdown drains). */
  async drain(): Promise<number> {
    let total = 0
    for (let n = await this.shipOnce(true); n > 0; n = await this.shipOnce(true)) total += n
    return total
  }

  private async run(): Promise<void> {
    let backoff = this.o.config.backoffMinMs
    while (this.running) {
      try {
        const n = await this.shipOnce()
        this.st.consecutiveFailures = 0
        this.st.state = 'idle'
        backoff = this.o.config.backoffMinMs
        if (n > 0) continue // catch up: the next batch may be due already
        await this.sleep(this.o.config.pollIntervalMs)
      } catch (err) {
        this.st.consecutiveFailures++
        this.st.lastError = (err as Error)?.message ?? String(err)
        this.st.state = 'backing_off'
        this.o.metrics?.failures.inc()
        // Log the first failure and then every tenth: an outage must not flood the log.
        if (this.st.consecutiveFailures % 10 === 1) {
          this.o.log.warn('telemetry relay: shipping failed; events wait in the outbox', {
            error: this.st.lastError,
            consecutiveFailures: this.st.consecutiveFailures,
            batch: this.pending?.token,
            batchRows: this.pending?.rows.length ?? 0,
          })
        }
        await this.sleep(backoff * (0.5 + Math.random() / 2))
        backoff = Math.min(backoff * 2, this.o.config.backoffMaxMs)
      }
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms)
      function done() {
        clearTimeout(timer)
        resolve()
      }
      this.wake = done
    })
  }

  private async takeOver(): Promise<Batch | undefined> {
    const batch = await takeOverBatch(this.o.pool, {
      leaseMs: this.o.config.claimLeaseMs,
      instanceId: this.o.instanceId,
      maxPartitions: this.o.config.maxPartitionsPerInsert,
    })
    if (batch)
      this.o.log.info('telemetry relay: took over an expired batch', {
        batch: batch.token,
        rows: batch.rows.length,
      })
    return batch
  }

  private async claimNew(force: boolean): Promise<Batch | undefined> {
    const { batchSize, maxBatchAgeMs } = this.o.config
    if (!force) {
      const next = await nextBatch(this.o.pool, batchSize)
      if (next.n === 0 || (next.n < batchSize && next.ageMs < maxBatchAgeMs)) return undefined
    }
    return claimBatch(this.o.pool, {
      token: randomUUID(),
      batchSize,
      instanceId: this.o.instanceId,
      maxPartitions: this.o.config.maxPartitionsPerInsert,
    })
  }

  /** Ships `batch`; false when another relay already had (its lease row is gone). */
  private async ship(batch: Batch): Promise<boolean> {
    this.st.state = 'shipping'
    // Renewing also tells us whether another relay shipped the batch meanwhile (lease row gone).
    if (!(await renewLease(this.o.pool, batch.token, this.o.instanceId))) return false
    // Keep the lease while the inserts run (ClickHouse may be slow), so no relay takes it over.
    const renew = setInterval(
      () => void renewLease(this.o.pool, batch.token, this.o.instanceId).catch(() => {}),
      Math.max(1_000, this.o.config.claimLeaseMs / 3),
    )
    // Validation is deterministic, so every attempt at this batch sends the same rows.
    const valid: BatchRow[] = []
    const dead: RefusedRow[] = []
    for (const row of batch.rows) {
      const r = TelemetryEvent.safeParse(row.body)
      if (r.success) valid.push({ seq: row.seq, row: toRow(r.data, row.source) })
      else
        dead.push({
          seq: row.seq,
          error: r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '),
        })
    }
    let refused: RefusedRow[]
    try {
      refused = await sendBatch({
        clickhouse: this.o.clickhouse,
        token: batch.token,
        rows: valid,
        maxPartitions: batch.maxPartitions,
        split: batch.split,
        onSplit: async (token) => {
          await recordSplit(this.o.pool, batch.token, token)
          batch.split.add(token)
          if (batch.split.size === 1)
            this.o.log.warn('telemetry relay: ClickHouse refused an insert for its rows; bisecting it', {
              batch: batch.token,
              rows: valid.length,
            })
        },
      })
    } finally {
      clearInterval(renew)
    }
    dead.push(...refused)
    await finishBatch(this.o.pool, batch.token, dead)
    if (dead.length > 0) {
      this.st.deadLettered += dead.length
      this.o.metrics?.deadRows.inc(dead.length)
      this.o.log.warn(
        'telemetry relay: set aside outbox rows that are not valid events or that ClickHouse refused',
        {
          rows: dead.length,
          table: 'telemetry_outbox_dead',
          firstError: dead[0]!.error,
        },
      )
    }
    const shipped = valid.length - refused.length
    this.st.shipped += shipped
    this.st.lastShippedAt = new Date().toISOString()
    this.o.metrics?.shipped.inc(shipped)
    return true
  }
}
