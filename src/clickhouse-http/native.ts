// Native output for a client protocol revision. ClickHouse's HTTP server writes the Native format
// for the revision the client names (`client_protocol_version`); the embedded engine has no such
// parameter and writes revision 0. clickhouse-go (Grafana's ClickHouse plugin) asks for revision
// 54460 and reads every block as: block info, then per column name, type, a custom-serialization
// flag and the data (lib/proto/block.go). For revision >= 54405 the column data itself is the same
// as at revision 0 (sparse columns are written dense at 0, which a flag of 0 declares), so this
// module walks the engine's blocks and inserts what the revision adds, copying the data untouched.
//
// Guarantees: the output is either a faithful rewrite of every block or an error (NOT_IMPLEMENTED
// for a column type whose layout is not known here); it never sends a partly rewritten result.
import { chError } from './errors.ts'

/** Revisions that add per-block info (> 0), and the custom-serialization flag per column. */
const MIN_REVISION_WITH_LOW_CARDINALITY_TYPE = 54405
const MIN_REVISION_WITH_CUSTOM_SERIALIZATION = 54454

type Layout =
  | { kind: 'fixed'; size: number }
  | { kind: 'string' }
  | { kind: 'nullable'; inner: Layout }
  | { kind: 'array'; inner: Layout }
  | { kind: 'tuple'; elements: Layout[] }
  | { kind: 'lowCardinality'; inner: Layout }

const FIXED: Record<string, number> = {
  UInt8: 1,
  Int8: 1,
  Bool: 1,
  Enum8: 1,
  Nothing: 1,
  UInt16: 2,
  Int16: 2,
  Enum16: 2,
  Date: 2,
  BFloat16: 2,
  UInt32: 4,
  Int32: 4,
  Float32: 4,
  Date32: 4,
  DateTime: 4,
  IPv4: 4,
  Time: 4,
  Decimal32: 4,
  UInt64: 8,
  Int64: 8,
  Float64: 8,
  DateTime64: 8,
  Time64: 8,
  Decimal64: 8,
  UInt128: 16,
  Int128: 16,
  UUID: 16,
  IPv6: 16,
  Decimal128: 16,
  UInt256: 32,
  Int256: 32,
  Decimal256: 32,
}

/** Splits a type's arguments at top-level commas, honouring parentheses and quotes. */
function splitArgs(s: string): string[] {
  const args: string[] = []
  let depth = 0
  let start = 0
  for (let i = 0; i < s.length; i++) {
    const ch = s[i]
    if (ch === "'" || ch === '`') {
      for (i++; i < s.length && s[i] !== ch; i++) if (s[i] === '\\') i++
    } else if (ch === '(') depth++
    else if (ch === ')') depth--
    else if (ch === ',' && depth === 0) {
      args.push(s.slice(start, i).trim())
      start = i + 1
    }
  }
  args.push(s.slice(start).trim())
  return args
}

/** A named tuple element is `name Type` (the name possibly back-quoted): drop the name. */
function elementType(arg: string): string {
  const m = /^(`(?:[^`\\]|\\.)*`|[A-Za-z_][A-Za-z0-9_]*)\s+(\S[\s\S]*)$/.exec(arg)
  return m && !/^[A-Za-z_][A-Za-z0-9_]*$/.test(arg) ? m[2]! : arg
}

/** How a column of this type lies in a Native block. */
export function layoutOf(type: string): Layout {
  const m = /^(\w+)(?:\(([\s\S]*)\))?$/.exec(type.trim())
  const unsupported = () =>
    chError(
      'NOT_IMPLEMENTED',
      `Native output of type ${type} for a client protocol revision is not supported by Steward's ClickHouse interface; use another format`,
    )
  if (!m) throw unsupported()
  const [, name, inner] = m as unknown as [string, string, string | undefined]
  const args = inner === undefined ? [] : splitArgs(inner)
  if (name in FIXED) return { kind: 'fixed', size: FIXED[name]! }
  switch (name) {
    case 'String':
      return { kind: 'string' }
    case 'FixedString':
      return { kind: 'fixed', size: Number(args[0]) }
    case 'Decimal': {
      const p = Number(args[0])
      return { kind: 'fixed', size: p <= 9 ? 4 : p <= 18 ? 8 : p <= 38 ? 16 : 32 }
    }
    case 'Nullable':
      return { kind: 'nullable', inner: layoutOf(args[0]!) }
    case 'LowCardinality': {
      // The dictionary of LowCardinality(Nullable(T)) is written as T (null is key 0).
      const dict = layoutOf(args[0]!)
      return { kind: 'lowCardinality', inner: dict.kind === 'nullable' ? dict.inner : dict }
    }
    case 'Array':
      return { kind: 'array', inner: layoutOf(args[0]!) }
    case 'Tuple':
      return { kind: 'tuple', elements: args.map((a) => layoutOf(elementType(a))) }
    case 'Map':
      return { kind: 'array', inner: { kind: 'tuple', elements: [layoutOf(args[0]!), layoutOf(args[1]!)] } }
    case 'SimpleAggregateFunction':
      return layoutOf(args.slice(1).join(', '))
    default:
      throw unsupported()
  }
}

class Reader {
  pos = 0
  constructor(readonly buf: Uint8Array) {}
  need(n: number) {
    if (this.pos + n > this.buf.length) throw new RangeError('Native block ends early')
  }
  varUInt(): number {
    let result = 0
    for (let shift = 0; ; shift += 7) {
      this.need(1)
      const b = this.buf[this.pos++]!
      result += (b & 0x7f) * 2 ** shift
      if (b < 0x80) return result
      if (shift > 56) throw new RangeError('bad varint')
    }
  }
  uint64(): number {
    this.need(8)
    const v = new DataView(this.buf.buffer, this.buf.byteOffset + this.pos, 8).getBigUint64(0, true)
    this.pos += 8
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new RangeError('UInt64 too large')
    return Number(v)
  }
  skip(n: number) {
    this.need(n)
    this.pos += n
  }
  string(): string {
    const n = this.varUInt()
    this.need(n)
    const s = Buffer.from(this.buf.buffer, this.buf.byteOffset + this.pos, n).toString('utf8')
    this.pos += n
    return s
  }
}

/** Skips the serialization prefixes of a column (written before its data): one per LowCardinality. */
function skipPrefix(r: Reader, l: Layout): void {
  if (l.kind === 'lowCardinality') r.skip(8)
  else if (l.kind === 'nullable' || l.kind === 'array') skipPrefix(r, l.inner)
  else if (l.kind === 'tuple') for (const e of l.elements) skipPrefix(r, e)
}

/** Skips `rows` values of a column's data. */
function skipData(r: Reader, l: Layout, rows: number): void {
  switch (l.kind) {
    case 'fixed':
      r.skip(l.size * rows)
      return
    case 'string':
      for (let i = 0; i < rows; i++) r.skip(r.varUInt())
      return
    case 'nullable':
      r.skip(rows)
      skipData(r, l.inner, rows)
      return
    case 'array': {
      let total = 0
      for (let i = 0; i < rows; i++) total = r.uint64()
      skipData(r, l.inner, total)
      return
    }
    case 'tuple':
      for (const e of l.elements) skipData(r, e, rows)
      return
    case 'lowCardinality': {
      if (rows === 0) return
      const flags = r.uint64()
      // Bit 8: a shared dictionary, which Native output never uses (low_cardinality_max_dictionary_size = 0).
      if (flags & 0x100) throw new RangeError('LowCardinality with a global dictionary')
      if (flags & 0x200) skipData(r, l.inner, r.uint64())
      const indexWidth = [1, 2, 4, 8][flags & 0xff]
      if (indexWidth === undefined) throw new RangeError('bad LowCardinality index type')
      r.skip(indexWidth * r.uint64())
      return
    }
  }
}

const varUInt = (n: number): number[] => {
  const out: number[] = []
  for (; n >= 0x80; n = Math.floor(n / 128)) out.push((n % 128) | 0x80)
  out.push(n)
  return out
}
// is_overflows = false (field 1), bucket_num = -1 (field 2), end of fields (0).
const BLOCK_INFO = [0x01, 0x00, 0x02, 0xff, 0xff, 0xff, 0xff, 0x00]

/** Rewrites the engine's revision-0 Native bytes for `revision` (0: unchanged). */
export function nativeForRevision(bytes: Uint8Array, revision: number): Uint8Array {
  if (revision === 0) return bytes
  if (revision < MIN_REVISION_WITH_LOW_CARDINALITY_TYPE) {
    throw chError(
      'BAD_ARGUMENTS',
      `client_protocol_version ${revision} is older than Steward's ClickHouse interface supports (${MIN_REVISION_WITH_LOW_CARDINALITY_TYPE} or 0)`,
    )
  }
  const flag = revision >= MIN_REVISION_WITH_CUSTOM_SERIALIZATION
  const r = new Reader(bytes)
  const parts: Uint8Array[] = []
  try {
    while (r.pos < bytes.length) {
      const columns = r.varUInt()
      const rows = r.varUInt()
      parts.push(Uint8Array.from([...BLOCK_INFO, ...varUInt(columns), ...varUInt(rows)]))
      for (let c = 0; c < columns; c++) {
        const start = r.pos
        r.string() // name
        const layout = layoutOf(r.string())
        parts.push(bytes.subarray(start, r.pos))
        if (flag) parts.push(Uint8Array.of(0))
        const data = r.pos
        if (rows > 0) {
          skipPrefix(r, layout)
          skipData(r, layout, rows)
        }
        parts.push(bytes.subarray(data, r.pos))
      }
    }
  } catch (err) {
    if (err instanceof RangeError) {
      throw chError(
        'NOT_IMPLEMENTED',
        `cannot rewrite the Native result for revision ${revision}: ${err.message}`,
      )
    }
    throw err
  }
  return Buffer.concat(parts)
}
