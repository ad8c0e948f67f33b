// Hostile values for the fuzz test (schema-arbitrary.ts puts them where a body's values go): the
// wrong type, NUL and control characters, lone surrogates, very long strings, huge, negative and
// non-finite numbers, nesting thousands deep, prototype keys. JSON text JSON.stringify cannot
// write (1e999, deep nesting) travels as RawJson and is spliced in by `serialize`.
import fc from 'fast-check'

/**
 * JSON text spliced into the body as is: numbers JSON.stringify cannot write (1e999), and nesting
 * deeper than a recursive serializer (or fast-check's report of a counterexample) can walk.
 */
export class RawJson {
  constructor(
    readonly text: string,
    private readonly label = text,
  ) {}
  [fc.toStringMethod]() {
    return `raw(${this.label})`
  }
}

/** The body as JSON text, with every RawJson written verbatim. */
export function serialize(body: unknown): string {
  const raws: string[] = []
  const text = JSON.stringify(body, (_, v) => {
    if (v instanceof RawJson) {
      raws.push(v.text)
      return `\u0000raw${raws.length - 1}\u0000`
    }
    return v
  })
  return (text ?? 'null').replace(/"\\u0000raw(\d+)\\u0000"/g, (_, i: string) => raws[Number(i)]!)
}

/** `depth` levels of arrays or objects around a string, as JSON text. */
const nested = (depth: number, asArray: boolean): RawJson => {
  const [open, close] = asArray ? ['[', ']'] : ['{"a":', '}']
  return new RawJson(`${open.repeat(depth)}"deep"${close.repeat(depth)}`, `${open}…×${depth}`)
}

const withKey = (key: string, value: unknown) => JSON.parse(`{${JSON.stringify(key)}:${serialize(value)}}`)

/** Text that breaks the text rule or strains the code that handles text. */
const hostileText = fc.oneof(
  fc.constantFrom(
    'a\u0000b',
    '\u0000',
    'esc\u001b[31m',
    'del\u007f',
    'bell\u0007',
    'lone \ud800 surrogate',
    'low \udc00 first',
    'rtl \u202e override',
    'zero\u200bwidth\ufeff',
    '😀'.repeat(100),
    'ｆｕｌｌ',
    "'; DROP TABLE customers; --",
    '{name:String}',
    '../../etc/passwd',
    '%00',
    '\\u0000',
    '   ',
    '',
  ),
  fc.string({ unit: 'binary', maxLength: 30 }),
  fc.string({ unit: 'grapheme', maxLength: 30 }),
  fc.constantFrom(1_000, 70_000, 300_000).map((n) => 'x'.repeat(n)),
)

/** A value of any type a field should not hold, or at the edge of the one it should. */
export const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  hostileText,
  fc.constantFrom(
    null,
    true,
    false,
    0,
    -1,
    -0.5,
    1.5,
    2 ** 31,
    2 ** 53 + 2,
    -(2 ** 63),
    1e308,
    -1e308,
    Number.MIN_VALUE,
    [],
    {},
    [[]],
    [null],
    '0000-01-01T00:00:00Z',
    '9999-12-31T23:59:59Z',
    '2025-02-30T00:00:00Z',
    '1969-12-31T23:59:59Z',
    '2025-09-01T00:00:00+14:00',
    'NaN',
    '1e999',
  ),
  fc
    .constantFrom('1e999', '-1e999', '-0', '123456789012345678901234567890', '1.0e-400')
    .map((t) => new RawJson(t)),
  fc
    .tuple(fc.oneof(fc.integer({ min: 20, max: 3000 }), fc.constantFrom(10_000, 100_000)), fc.boolean())
    .map(([d, arr]) => nested(d, arr)),
  fc.constantFrom('__proto__', 'constructor', 'prototype').map((k) => withKey(k, { polluted: true })),
  fc.jsonValue({ maxDepth: 3 }),
)
