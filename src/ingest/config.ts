// Settings of the ingest module: the "ingest" section of the STEWARD_CONFIG file. `{}` parses to
// the defaults below; docs/telemetry.md explains each one and what it trades.
import { z } from 'zod'

const ms = z.number().int().positive()

export const ingestConfigSchema = z
  .object({
    relay: z
      .object({
        /** Run the outbox relay in this process (serve). Off: events wait in the outbox for another instance. */
        enabled: z.boolean().default(true),
        /** Rows per ClickHouse insert (the relay ships as soon as this many wait). */
        batchSize: z.number().int().min(1).max(100_000).default(5_000),
        /** A partial batch ships once its oldest row waited this long. */
        maxBatchAgeMs: ms.default(1_000),
        /** How often an idle relay looks at the outbox (HTTP ingest also wakes it). */
        pollIntervalMs: ms.default(250),
        /** A claimed batch not shipped for this long (its relay died) is re-sent by another relay. */
        claimLeaseMs: ms.default(30_000),
        /** Backoff while ClickHouse fails: from min, doubling (with jitter) up to max. */
        backoffMinMs: ms.default(500),
        backoffMaxMs: ms.default(30_000),
        /**
         * Most months (partitions of `events`) in one insert; a batch spanning more (a backfill)
         * is sent as several inserts. Also sent as ClickHouse's max_partitions_per_insert_block.
         */
        maxPartitionsPerInsert: z.number().int().min(1).max(1_000).default(100),
      })
      .prefault({}),
    /** A re-sent eventId within this window is dropped at ingest; beyond it, see docs/telemetry.md. */
    dedupWindowHours: z
      .number()
      .positive()
      .max(24 * 366)
      .default(7 * 24),
    http: z
      .object({
        /** Largest request body on the wire (compressed or not). */
        maxBodyBytes: z
          .number()
          .int()
          .positive()
          .default(10 * 1024 * 1024),
        /** Largest body after gzip decompression (guards against compression bombs). */
        maxDecodedBytes: z
          .number()
          .int()
          .positive()
          .default(50 * 1024 * 1024),
        /** Most characters of one event in the body (a bigger one is refused without being kept). */
        maxEventBytes: z
          .number()
          .int()
          .min(1024)
          .default(64 * 1024),
        /** Most events in one request. */
        maxEventsPerRequest: z.number().int().positive().default(10_000),
        /** Requests whose bodies are read and checked at once; more get 429 with Retry-After. */
        maxConcurrentRequests: z.number().int().positive().default(16),
        /** Latest accepted event time (`ts`, `detectedAt`, `recoveredAt`): now plus this many hours. */
        maxFutureHours: z
          .number()
          .positive()
          .max(24 * 366)
          .default(24),
        /** Oldest event time a customer token may send: now minus this many hours. */
        customerMaxAgeHours: z
          .number()
          .positive()
          .max(24 * 3660)
          .default(7 * 24),
        /**
         * Oldest time of a factory event (customerId '') the admin token may send, in days. The
         * admin's events of a customer may go back to that customer's contract start instead.
         */
        factoryHistoryDays: z.number().positive().max(3660).default(400),
        /** Events waiting for the next group commit before new requests get 429. */
        maxPendingEvents: z.number().int().positive().default(100_000),
        /** Outbox rows (unshipped events) beyond which new requests get 503 until the relay catches up. */
        maxBacklog: z.number().int().positive().default(2_000_000),
      })
      .prefault({}),
    /** Interval of this instance's control-plane heartbeat events (0: none). */
    heartbeatIntervalMs: z.number().int().min(0).default(15_000),
    /** Raw `events` are dropped after this many days (0: kept forever). Rollups are kept. */
    rawTtlDays: z.number().int().min(0).max(3650).default(0),
  })
  .strict()

export type IngestConfig = z.infer<typeof ingestConfigSchema>
