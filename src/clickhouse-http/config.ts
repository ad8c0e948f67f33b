// Settings of the ClickHouse HTTP interface over the embedded store: the "http" part of the
// "clickhouse" section of the STEWARD_CONFIG file. `{}` parses to the defaults below.
import { z } from 'zod'

export const clickhouseHttpConfigSchema = z
  .object({
    /** A query running longer is stopped with TIMEOUT_EXCEEDED (max_execution_time). */
    maxExecutionTimeSeconds: z.number().int().min(1).max(3600).default(30),
    /** A result with more rows is refused with TOO_MANY_ROWS_OR_BYTES (max_result_rows). */
    maxResultRows: z.number().int().min(1).default(1_000_000),
    /** A result larger than this in memory is refused with TOO_MANY_ROWS_OR_BYTES (max_result_bytes). */
    maxResultBytes: z
      .number()
      .int()
      .min(1)
      .default(256 * 1024 * 1024),
    /** Queries running at once; more wait their turn (each holds an engine thread). */
    maxConcurrentQueries: z.number().int().min(1).max(64).default(2),
    /** Largest request (query text and body) accepted. */
    maxQueryBytes: z
      .number()
      .int()
      .min(1024)
      .default(1024 * 1024),
  })
  .strict()

export type ClickHouseHttpConfig = z.infer<typeof clickhouseHttpConfigSchema>
