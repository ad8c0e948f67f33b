// How the relay sends one claimed batch to ClickHouse: cut into inserts of at most
// `maxPartitions` months (ClickHouse's partition cap stays on), each insert with a deduplication
// token derived from the batch's; an insert ClickHouse refuses for a row's sake is bisected until
// the refused rows stand alone, and those come back to be set aside.
//
// Guarantees:
// - deterministic: the same batch (rows in seq order), the same cap and the same split record
//   give the same inserts with the same tokens on every attempt, by any relay, so after a crash
//   ClickHouse drops whatever already landed. An insert refused whole is recorded (`onSplit`,
//   committed before its halves are sent) and never sent whole again: a later attempt goes
//   straight to its halves, so no row can land both in a half and in the whole;
// - nothing is bisected or set aside unless ClickHouse answered with a server exception while it
//   is reachable (a ping succeeds) and the exception is not one that passes (overload, timeouts,
//   too many parts) or concerns the server rather than the rows (missing table, permissions,
//   read-only). A network error, a timeout or a passing exception fails the attempt: the relay
//   backs off and retries the same inserts later.
import type { ClickHouseClient } from '../db/clickhouse.ts'
import type { EventRow } from './rows.ts'

/** A row of the batch with the outbox row it came from. */
export interface BatchRow {
  seq: number
  row: EventRow
}

/** An outbox row ClickHouse refused, and its error. */
export interface RefusedRow {
  seq: number
  error: string
}

export interface SendBatchOptions {
  clickhouse: ClickHouseClient
  /** The batch's token: every insert's token derives from it. */
  token: string
  rows: BatchRow[]
  maxPartitions: number
  /** Tokens of inserts ClickHouse already refused whole (from earlier attempts). */
  split: ReadonlySet<string>
  /** Records that the insert `token` was refused whole; resolves once that is durable. */
  onSplit: (token: string) => Promise<void>
}

// Exceptions that pass, or that concern the server rather than the rows: retried, never bisected.
const NOT_THE_ROWS = new Set([
  'TIMEOUT_EXCEEDED',
  'TOO_MANY_PARTS',
  'MEMORY_LIMIT_EXCEEDED',
  'CANNOT_ALLOCATE_MEMORY',
  'TOO_MANY_SIMULTANEOUS_QUERIES',
  'SERVER_OVERLOADED',
  'QUOTA_EXCEEDED',
  'NOT_ENOUGH_SPACE',
  'SOCKET_TIMEOUT',
  'NETWORK_ERROR',
  'ABORTED',
  'QUERY_WAS_CANCELLED',
  'DEADLOCK_AVOIDED',
  'KEEPER_EXCEPTION',
  'ALL_CONNECTION_TRIES_FAILED',
  'TABLE_IS_READ_ONLY',
  'READONLY',
  'UNKNOWN_TABLE',
  'UNKNOWN_DATABASE',
  'NO_SUCH_COLUMN_IN_TABLE',
  'THERE_IS_NO_COLUMN',
  'TABLE_IS_DROPPED',
  'NOT_ENOUGH_PRIVILEGES',
  'ACCESS_DENIED',
  'AUTHENTICATION_FAILED',
  'REQUIRED_PASSWORD',
  'UNKNOWN_USER',
])

interface ServerException {
  code: string
  type: string
  message: string
}

/** A ClickHouse server exception (the client's `ClickHouseError`, also as chDB's copy of it raises it). */
function serverException(err: unknown): ServerException | undefined {
  if (!(err instanceof Error)) return undefined
  const e = err as Error & { code?: unknown; type?: unknown }
  return typeof e.type === 'string' && /^\d+$/.test(String(e.code))
    ? { code: String(e.code), type: e.type, message: e.message }
    : undefined
}

/** Whether `err` is ClickHouse refusing these rows (not a network error, nor a passing condition). */
async function refusedForTheRows(clickhouse: ClickHouseClient, err: unknown): Promise<boolean> {
  const ex = serverException(err)
  if (!ex || NOT_THE_ROWS.has(ex.type)) return false
  const ping = await clickhouse.ping().catch(() => ({ success: false }))
  return ping.success
}

/** The month (partition) of a row: `YYYY-MM` of its ClickHouse time text. */
const monthOf = (r: BatchRow) => r.row.ts.slice(0, r.row.ts.indexOf('-', 1) + 3)

/** The batch's inserts: rows grouped by month, at most `maxPartitions` months per insert. */
export function planInserts(
  token: string,
  rows: BatchRow[],
  maxPartitions: number,
): { token: string; rows: BatchRow[] }[] {
  const byMonth = new Map<string, BatchRow[]>()
  for (const r of rows) {
    const m = monthOf(r)
    const list = byMonth.get(m)
    if (list) list.push(r)
    else byMonth.set(m, [r])
  }
  if (byMonth.size <= maxPartitions) return rows.length ? [{ token, rows }] : []
  const months = [...byMonth.keys()].sort()
  const out: { token: string; rows: BatchRow[] }[] = []
  for (let i = 0; i < months.length; i += maxPartitions) {
    const group = months.slice(i, i + maxPartitions)
    out.push({
      token: `${token}/${group[0]}..${group.at(-1)}`,
      rows: group.flatMap((m) => byMonth.get(m)!),
    })
  }
  return out
}

const describe = (err: unknown) => {
  const ex = serverException(err)
  const text = ex ? `${ex.type} (${ex.code}): ${ex.message}` : String((err as Error)?.message ?? err)
  return `ClickHouse refused the row: ${text.trim().slice(0, 2_000)}`
}

/**
 * Sends the batch; resolves with the rows ClickHouse refused (each alone) once every other row
 * is acknowledged. Rejects (nothing to set aside yet) when ClickHouse fails for another reason.
 */
export async function sendBatch(o: SendBatchOptions): Promise<RefusedRow[]> {
  const refused: RefusedRow[] = []
  const insert = (rows: BatchRow[], token: string) =>
    o.clickhouse.insert({
      table: 'events',
      values: rows.map((r) => r.row),
      format: 'JSONEachRow',
      clickhouse_settings: {
        insert_deduplicate: 1,
        insert_deduplication_token: token,
        deduplicate_blocks_in_dependent_materialized_views: 1,
        // The cap stays on; the plan never puts more months than this in one insert.
        max_partitions_per_insert_block: String(o.maxPartitions),
      },
    })
  const place = async (rows: BatchRow[], token: string): Promise<void> => {
    if (rows.length === 0) return
    if (!o.split.has(token)) {
      try {
        await insert(rows, token)
        return
      } catch (err) {
        if (!(await refusedForTheRows(o.clickhouse, err))) throw err
        if (rows.length === 1) {
          refused.push({ seq: rows[0]!.seq, error: describe(err) })
          return
        }
        await o.onSplit(token)
      }
    }
    const mid = Math.ceil(rows.length / 2)
    await place(rows.slice(0, mid), `${token}/0`)
    await place(rows.slice(mid), `${token}/1`)
  }
  for (const part of planInserts(o.token, o.rows, o.maxPartitions)) await place(part.rows, part.token)
  return refused
}
