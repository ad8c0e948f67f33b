// The decoded OTLP messages Steward reads (protobufjs message instances of the types in proto.ts:
// unset scalars read their proto3 defaults, a oneof names its set member), and how their values
// become ClickHouse values the way the collector's ClickHouse exporter writes them: attribute
// values as text (pcommon's AsString: strings as they are, numbers and booleans as text, bytes as
// base64, arrays and maps as JSON), ids as lowercase hex, times as DateTime64(9) text.

/** A 64-bit integer as protobufjs decodes it (a `long` Long, or a number). */
export type Int64 = number | { low: number; high: number; unsigned?: boolean }

export interface AnyValue {
  value?: string
  stringValue?: string
  boolValue?: boolean
  intValue?: Int64
  doubleValue?: number
  arrayValue?: { values?: AnyValue[] } | null
  kvlistValue?: { values?: KeyValue[] } | null
  bytesValue?: Uint8Array
}

export interface KeyValue {
  key: string
  value?: AnyValue | null
}

export interface Scope {
  name?: string
  version?: string
  attributes?: KeyValue[]
  droppedAttributesCount?: number
}

export interface Resource {
  attributes?: KeyValue[]
}

/** A 64-bit integer as a bigint (two's complement for a signed one). */
export function int64(v: Int64 | null | undefined): bigint {
  if (v == null) return 0n
  if (typeof v === 'number') return BigInt(Math.trunc(v))
  const u = (BigInt(v.high >>> 0) << 32n) | BigInt(v.low >>> 0)
  return v.unsigned ? u : BigInt.asIntN(64, u)
}

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'))

/** Bytes as lowercase hex ('' for none), as the exporter writes trace and span ids. */
export function hex(bytes: Uint8Array | null | undefined): string {
  if (!bytes) return ''
  let out = ''
  for (let i = 0; i < bytes.length; i++) out += HEX[bytes[i]!]
  return out
}

/** An id of `size` bytes that is not all zeros (a valid trace or span id). */
export const validId = (bytes: Uint8Array | null | undefined, size: number): boolean =>
  !!bytes && bytes.length === size && bytes.some((b) => b !== 0)

const NANOS_PER_MS = 1_000_000n

/** Nanoseconds since the epoch as milliseconds (for bounds; exact to the millisecond). */
export const nanosToMs = (ns: bigint): number => Number(ns / NANOS_PER_MS)

/** Nanoseconds since the epoch as ClickHouse DateTime64(9) text in UTC. */
export function chTimeNanos(ns: bigint): string {
  const ms = ns / NANOS_PER_MS
  const iso = new Date(Number(ms)).toISOString()
  const frac = (ns % 1_000_000_000n).toString().padStart(9, '0')
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)}.${frac}`
}

/** An attribute value as the exporter stores it: text. */
export function valueText(v: AnyValue | null | undefined): string {
  if (!v) return ''
  switch (v.value) {
    case 'stringValue':
      return v.stringValue ?? ''
    case 'boolValue':
      return v.boolValue ? 'true' : 'false'
    case 'intValue':
      return int64(v.intValue).toString()
    case 'doubleValue':
      return String(v.doubleValue)
    case 'bytesValue':
      return Buffer.from(v.bytesValue ?? []).toString('base64')
    case 'arrayValue':
    case 'kvlistValue':
      return JSON.stringify(valueJson(v))
    default:
      return ''
  }
}

/** A value as plain JSON (arrays and maps inside text values). */
function valueJson(v: AnyValue | null | undefined): unknown {
  if (!v) return null
  switch (v.value) {
    case 'stringValue':
      return v.stringValue ?? ''
    case 'boolValue':
      return !!v.boolValue
    case 'intValue': {
      const n = int64(v.intValue)
      return Number.isSafeInteger(Number(n)) ? Number(n) : n.toString()
    }
    case 'doubleValue':
      return v.doubleValue ?? 0
    case 'bytesValue':
      return Buffer.from(v.bytesValue ?? []).toString('base64')
    case 'arrayValue':
      return (v.arrayValue?.values ?? []).map(valueJson)
    case 'kvlistValue':
      return Object.fromEntries((v.kvlistValue?.values ?? []).map((kv) => [kv.key, valueJson(kv.value)]))
    default:
      return null
  }
}

/** Attributes as the exporter's Map(String, String) (a repeated key keeps its last value). */
export function attributeMap(list: KeyValue[] | null | undefined): Record<string, string> {
  const out: Record<string, string> = {}
  for (const kv of list ?? []) out[kv.key] = valueText(kv.value)
  return out
}

/** The attribute `key` of `list`, if present. */
export function attribute(list: KeyValue[] | null | undefined, key: string): AnyValue | undefined {
  if (!list) return undefined
  for (let i = list.length - 1; i >= 0; i--) if (list[i]!.key === key) return list[i]!.value ?? undefined
  return undefined
}

/** A string attribute's text ('' when absent or not a string). */
export const stringAttribute = (list: KeyValue[] | null | undefined, key: string): string => {
  const v = attribute(list, key)
  return v?.value === 'stringValue' ? (v.stringValue ?? '') : ''
}
