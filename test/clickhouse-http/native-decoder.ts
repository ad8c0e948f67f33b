// An independent reader of ClickHouse's Native format, written from clickhouse-go's
// lib/proto/block.go (Block.Decode) and its column readers: for a revision > 0 every block starts
// with block info (field 1 uvarint + bool, field 2 uvarint + int32, then 0), and from revision
// 54454 every column type is followed by a custom-serialization flag that must be false. Values
// are decoded (fixed-size ones as hex) so two results can be compared value by value.

export interface DecodedColumn {
  name: string
  type: string
  values: unknown[]
}

class In {
  pos = 0
  constructor(readonly b: Buffer) {}
  uvarint(): number {
    let v = 0
    for (let s = 0; ; s += 7) {
      const x = this.byte()
      v += (x & 0x7f) * 2 ** s
      if (x < 0x80) return v
    }
  }
  byte(): number {
    if (this.pos >= this.b.length) throw new Error('unexpected end of Native data')
    return this.b[this.pos++]!
  }
  bytes(n: number): Buffer {
    if (this.pos + n > this.b.length) throw new Error('unexpected end of Native data')
    const out = this.b.subarray(this.pos, this.pos + n)
    this.pos += n
    return out
  }
  str(): string {
    return this.bytes(this.uvarint()).toString('utf8')
  }
  u64(): number {
    return Number(this.bytes(8).readBigUInt64LE())
  }
}

const WIDTH: Record<string, number> = {
  UInt8: 1,
  Int8: 1,
  Bool: 1,
  Nothing: 1,
  UInt16: 2,
  Int16: 2,
  Date: 2,
  UInt32: 4,
  Int32: 4,
  Float32: 4,
  DateTime: 4,
  UInt64: 8,
  Int64: 8,
  Float64: 8,
  DateTime64: 8,
  Decimal64: 8,
  UUID: 16,
  Int128: 16,
}

function args(type: string): string[] {
  const inner = type.slice(type.indexOf('(') + 1, -1)
  const out: string[] = []
  let depth = 0
  let cur = ''
  for (const ch of inner) {
    if (ch === '(') depth++
    if (ch === ')') depth--
    if (ch === ',' && depth === 0) {
      out.push(cur.trim())
      cur = ''
    } else cur += ch
  }
  return [...out, cur.trim()]
}

const base = (type: string) => /^\w+/.exec(type)![0]
const unnamed = (t: string) => (/^\w+ \S/.test(t) && !/^\w+\(/.test(t) ? t.slice(t.indexOf(' ') + 1) : t)

function prefix(r: In, type: string): void {
  const b = base(type)
  if (b === 'LowCardinality') {
    if (r.u64() !== 1) throw new Error('LowCardinality keys version must be 1')
  } else if (b === 'Nullable' || b === 'Array') prefix(r, args(type)[0]!)
  else if (b === 'Tuple') for (const a of args(type)) prefix(r, unnamed(a))
  else if (b === 'Map') for (const a of args(type)) prefix(r, a)
}

function column(r: In, type: string, rows: number): unknown[] {
  const b = base(type)
  if (b === 'String') return Array.from({ length: rows }, () => r.str())
  if (b === 'FixedString')
    return Array.from({ length: rows }, () => r.bytes(Number(args(type)[0])).toString('hex'))
  if (b === 'Decimal') {
    const p = Number(args(type)[0])
    return Array.from({ length: rows }, () => r.bytes(p <= 9 ? 4 : p <= 18 ? 8 : 16).toString('hex'))
  }
  if (b === 'Enum8') return Array.from({ length: rows }, () => r.bytes(1).toString('hex'))
  if (b in WIDTH) return Array.from({ length: rows }, () => r.bytes(WIDTH[b]!).toString('hex'))
  if (b === 'Nullable') {
    const nulls = [...r.bytes(rows)]
    const values = column(r, args(type)[0]!, rows)
    return values.map((v, i) => (nulls[i] ? null : v))
  }
  if (b === 'Array' || b === 'Map') {
    const ends = Array.from({ length: rows }, () => r.u64())
    const inner = b === 'Map' ? `Tuple(${args(type).join(', ')})` : args(type)[0]!
    const all = column(r, inner, ends.at(-1) ?? 0)
    return ends.map((end, i) => all.slice(i === 0 ? 0 : ends[i - 1], end))
  }
  if (b === 'Tuple') {
    const elements = args(type).map((a) => column(r, unnamed(a), rows))
    return Array.from({ length: rows }, (_, i) => elements.map((e) => e[i]))
  }
  if (b === 'LowCardinality') {
    if (rows === 0) return []
    const flags = r.u64()
    const inner = args(type)[0]!
    const nullable = base(inner) === 'Nullable'
    const keys = column(r, nullable ? args(inner)[0]! : inner, r.u64())
    const n = r.u64()
    const width = [1, 2, 4, 8][flags & 0xff]!
    return Array.from({ length: n }, () => {
      const k = r.bytes(width).readUIntLE(0, Math.min(width, 6))
      return nullable && k === 0 ? null : keys[k]
    })
  }
  throw new Error(`the test decoder does not know ${type}`)
}

/** Decodes every block of a Native stream written for `revision`; throws on anything unexpected. */
export function decodeNative(bytes: Uint8Array, revision: number): DecodedColumn[][] {
  const r = new In(Buffer.from(bytes))
  const blocks: DecodedColumn[][] = []
  while (r.pos < r.b.length) {
    if (revision > 0) {
      r.uvarint()
      r.byte()
      r.uvarint()
      r.bytes(4)
      if (r.uvarint() !== 0) throw new Error('block info must end with field 0')
    }
    const columns = r.uvarint()
    const rows = r.uvarint()
    const block: DecodedColumn[] = []
    for (let c = 0; c < columns; c++) {
      const name = r.str()
      const type = r.str()
      if (revision >= 54454 && r.byte() !== 0) throw new Error(`custom serialization for column ${name}`)
      if (rows > 0) prefix(r, type)
      block.push({ name, type, values: rows > 0 ? column(r, type, rows) : [] })
    }
    blocks.push(block)
  }
  return blocks
}
