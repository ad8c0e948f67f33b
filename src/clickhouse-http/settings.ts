// Settings a client may pass as URL parameters, and the limits Steward always applies.
//
// Guarantees:
// - only settings in ALLOWED reach the engine; a known ClickHouse setting outside it is refused with
//   SETTING_CONSTRAINT_VIOLATION, an unknown name with UNKNOWN_SETTING, as a ClickHouse server with a
//   read-only profile would refuse them;
// - every value is checked against its setting's shape (integer, 0/1, one of a few words, a time
//   zone name) and written back in canonical form, so no client text reaches the SET statements;
// - the configured limits always apply: a client may tighten max_execution_time, max_result_rows
//   and max_result_bytes, never loosen or lift them (0 = unlimited is refused);
// - readonly=1 is set last, so the query itself cannot change any setting.
import type { ClickHouseHttpConfig } from './config.ts'
import { chError } from './errors.ts'

type Shape =
  | { kind: 'uint'; cap?: keyof Limits }
  | { kind: 'bool' }
  | { kind: 'word'; values: readonly string[] }
  | { kind: 'timezone' }

interface Limits {
  max_execution_time: number
  max_result_rows: number
  max_result_bytes: number
}

const uint: Shape = { kind: 'uint' }
const bool: Shape = { kind: 'bool' }
const overflow: Shape = { kind: 'word', values: ['throw', 'break'] }

/** Harmless read settings: output shape, row limits, time zone. */
export const ALLOWED: Record<string, Shape> = {
  max_execution_time: { kind: 'uint', cap: 'max_execution_time' },
  max_result_rows: { kind: 'uint', cap: 'max_result_rows' },
  max_result_bytes: { kind: 'uint', cap: 'max_result_bytes' },
  result_overflow_mode: overflow,
  max_rows_to_read: uint,
  max_bytes_to_read: uint,
  read_overflow_mode: overflow,
  limit: uint,
  offset: uint,
  session_timezone: { kind: 'timezone' },
  date_time_output_format: { kind: 'word', values: ['simple', 'iso', 'unix_timestamp'] },
  date_time_input_format: { kind: 'word', values: ['basic', 'best_effort', 'best_effort_us'] },
  join_use_nulls: bool,
  aggregate_functions_null_for_empty: bool,
  output_format_json_quote_64bit_integers: bool,
  output_format_json_quote_64bit_floats: bool,
  output_format_json_quote_decimals: bool,
  output_format_json_quote_denormals: bool,
  output_format_json_named_tuples_as_objects: bool,
  output_format_json_escape_forward_slashes: bool,
  output_format_write_statistics: bool,
  output_format_decimal_trailing_zeros: bool,
}

/**
 * Settings of ClickHouse's HTTP layer: accepted and handled here (or meaningless for a response
 * built in full before it is sent), never passed to the engine.
 */
export const HTTP_LAYER = new Set([
  'wait_end_of_query',
  'send_progress_in_http_headers',
  'http_headers_progress_interval_ms',
  'http_response_buffer_size',
  'buffer_size',
  'enable_http_compression',
  'http_zlib_compression_level',
  'cancel_http_readonly_queries_on_client_close',
  'log_comment',
])

const TIMEZONE = /^[A-Za-z][A-Za-z0-9_+-]*(\/[A-Za-z0-9_+-]+)*$/

function canonical(name: string, shape: Shape, raw: string, limits: Limits): string {
  const bad = (what: string) =>
    chError('BAD_ARGUMENTS', `Cannot parse value '${raw.slice(0, 64)}' of setting ${name}: ${what}`)
  switch (shape.kind) {
    case 'uint': {
      if (!/^\d{1,19}$/.test(raw)) throw bad('expected a non-negative integer')
      const n = BigInt(raw)
      if (shape.cap) {
        const cap = BigInt(limits[shape.cap])
        if (n === 0n || n > cap) {
          throw chError('SETTING_CONSTRAINT_VIOLATION', `Setting ${name} shouldn't be greater than ${cap}`)
        }
      }
      return n.toString()
    }
    case 'bool':
      if (/^(1|true)$/i.test(raw)) return '1'
      if (/^(0|false)$/i.test(raw)) return '0'
      throw bad('expected 0 or 1')
    case 'word':
      if (!shape.values.includes(raw)) throw bad(`expected one of ${shape.values.join(', ')}`)
      return `'${raw}'`
    case 'timezone':
      if (raw.length > 64 || !TIMEZONE.test(raw)) throw bad('expected a time zone name')
      return `'${raw}'`
  }
}

export interface SettingsPlan {
  /** The statements that set up a request's session: the client's settings, the limits, readonly. */
  statements: string[]
  /** Names the client passed that are not allowed: the caller tells unknown ones from refused ones. */
  refused: string[]
}

const limitsOf = (config: ClickHouseHttpConfig): Limits => ({
  max_execution_time: config.maxExecutionTimeSeconds,
  max_result_rows: config.maxResultRows,
  max_result_bytes: config.maxResultBytes,
})

/**
 * The SET statements for a request's session, from the client's settings (URL parameters, then the
 * query's top-level SETTINGS) and the configured limits. `nested` are SETTINGS the query keeps in
 * subqueries: they apply there, so they pass the same checks, and may not touch readonly at all.
 */
export function planSettings(
  client: Map<string, string>,
  config: ClickHouseHttpConfig,
  nested: [string, string][] = [],
): SettingsPlan {
  const limits = limitsOf(config)
  const values = new Map<string, string>([
    ['max_execution_time', String(limits.max_execution_time)],
    ['max_result_rows', String(limits.max_result_rows)],
    ['max_result_bytes', String(limits.max_result_bytes)],
    ['result_overflow_mode', `'throw'`],
  ])
  const refused: string[] = []
  const readonly = () => chError('READONLY', `Cannot modify 'readonly' setting in readonly mode`)
  for (const [name, raw] of client) {
    if (name === 'readonly') {
      // Asking for read-only is consistent with what every request gets; anything else is refused.
      if (raw !== '1' && raw !== '2') throw readonly()
      continue
    }
    const shape = ALLOWED[name]
    if (!shape) refused.push(name)
    else values.set(name, canonical(name, shape, raw, limits))
  }
  for (const [name, raw] of nested) {
    // readonly = 0 or 2 in a subquery would let that subquery use table functions again.
    if (name === 'readonly') throw readonly()
    const shape = ALLOWED[name]
    if (!shape) refused.push(name)
    else canonical(name, shape, raw, limits)
  }
  const statements = [...values].map(([name, value]) => `SET ${name} = ${value}`)
  statements.push('SET readonly = 1')
  return { statements, refused }
}
