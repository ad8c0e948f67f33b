// Request bodies for the fuzz test, generated with fast-check from an operation's request schema
// in /openapi.json (JSON Schema 2020-12 as OpenAPI 3.1 writes it), then made hostile: a value
// replaced by the wrong type, a NUL or control character, a huge, negative or non-finite number,
// a very long string, deep nesting, an array where an object goes, odd unicode; a required field
// dropped; a field added. Values are "valid-ish": a generated body is often accepted, and its
// mutations probe what lies just outside the schema.
import fc from 'fast-check'
import { hostileValue, RawJson } from './hostile-values.ts'

// biome-ignore lint/suspicious/noExplicitAny: JSON Schema fragments are read loosely
type Schema = any

interface Context {
  defs: Record<string, Schema>
  depth: number
}

const MAX_DEPTH = 6
const iso = (d: Date) => d.toISOString()
const around = (days: number) => {
  const now = Date.now()
  return fc.date({
    min: new Date(now - days * 86_400_000),
    max: new Date(now + days * 86_400_000),
    noInvalidDate: true,
  })
}

function stringOf(s: Schema): fc.Arbitrary<string> {
  if (s.format === 'date-time') return fc.oneof(around(3).map(iso), around(4000).map(iso))
  if (s.format === 'uri') return fc.webUrl()
  if (s.format === 'email') return fc.emailAddress()
  if (typeof s.pattern === 'string') return fc.stringMatching(new RegExp(s.pattern))
  const minLength = s.minLength ?? 0
  const maxLength = Math.min(s.maxLength ?? 40, minLength + 40)
  return fc.oneof(
    fc.string({ minLength, maxLength, unit: 'grapheme-ascii' }),
    fc.string({ minLength, maxLength, unit: 'grapheme' }),
  )
}

function numberOf(s: Schema, integer: boolean): fc.Arbitrary<number> {
  const step = integer ? 1 : 1e-9
  const min: number | undefined =
    s.minimum ?? (s.exclusiveMinimum !== undefined ? s.exclusiveMinimum + step : undefined)
  const max: number | undefined =
    s.maximum ?? (s.exclusiveMaximum !== undefined ? s.exclusiveMaximum - step : undefined)
  const lo = Math.max(min ?? -1e6, integer ? Number.MIN_SAFE_INTEGER : -Number.MAX_VALUE)
  const hi = Math.min(max ?? 1e6, integer ? Number.MAX_SAFE_INTEGER : Number.MAX_VALUE)
  const typical = integer
    ? fc.integer({ min: lo, max: hi })
    : fc.double({ min: lo, max: hi, noNaN: true, noDefaultInfinity: true })
  // The edges the schema allows: its bounds, and huge magnitudes where it sets none.
  const huge = integer ? [Number.MAX_SAFE_INTEGER, 2 ** 31, 1e15] : [Number.MAX_VALUE, 1e308, 2 ** 53, 1e15]
  const edges = [...(min !== undefined ? [min] : huge.map((n) => -n)), ...(max !== undefined ? [max] : huge)]
  return fc.oneof({ weight: 4, arbitrary: typical }, { weight: 1, arbitrary: fc.constantFrom(...edges) })
}

function objectOf(s: Schema, ctx: Context): fc.Arbitrary<unknown> {
  const props = Object.entries((s.properties ?? {}) as Record<string, Schema>)
  const required = new Set<string>(s.required ?? [])
  const model: Record<string, fc.Arbitrary<unknown>> = {}
  for (const [k, v] of props) model[k] = arbitraryOf(v, ctx)
  const base = fc.record(model, { requiredKeys: props.map(([k]) => k).filter((k) => required.has(k)) })
  const extra = s.additionalProperties
  if (!extra || typeof extra !== 'object' || ctx.depth >= MAX_DEPTH) return base
  // Free-form members (a map, or an open object such as an OTLP message).
  const values = Object.keys(extra).length ? arbitraryOf(extra, ctx) : fc.jsonValue({ maxDepth: 2 })
  return fc
    .tuple(base, fc.dictionary(fc.string({ minLength: 1, maxLength: 12 }), values, { maxKeys: 3 }))
    .map(([b, more]) => ({ ...more, ...(b as object) }))
}

/** Values valid for `schema` (as far as a generator can tell), depth-bounded. */
export function arbitraryOf(schema: Schema, outer: Context): fc.Arbitrary<unknown> {
  const ctx = { ...outer, depth: outer.depth + 1 }
  if (
    schema === true ||
    schema === undefined ||
    (typeof schema === 'object' && Object.keys(schema).length === 0)
  )
    return fc.jsonValue({ maxDepth: 2 })
  if (schema.$ref) {
    const name = String(schema.$ref).replace('#/components/schemas/', '')
    const target = ctx.defs[name]
    if (!target) throw new Error(`unknown schema ${schema.$ref}`)
    return ctx.depth > MAX_DEPTH ? fc.constant({}) : arbitraryOf(target, ctx)
  }
  if ('const' in schema) return fc.constant(schema.const)
  if (Array.isArray(schema.enum)) return fc.constantFrom(...schema.enum)
  for (const k of ['oneOf', 'anyOf'] as const)
    if (Array.isArray(schema[k])) return fc.oneof(...schema[k].map((s: Schema) => arbitraryOf(s, ctx)))
  if (Array.isArray(schema.allOf))
    return fc
      .tuple(...schema.allOf.map((s: Schema) => arbitraryOf(s, ctx)))
      .map((parts) => Object.assign({}, ...(parts as object[])))
  if (Array.isArray(schema.type))
    return fc.oneof(...schema.type.map((t: string) => arbitraryOf({ ...schema, type: t }, outer)))
  switch (schema.type) {
    case 'string':
      return stringOf(schema)
    case 'integer':
      return numberOf(schema, true)
    case 'number':
      return numberOf(schema, false)
    case 'boolean':
      return fc.boolean()
    case 'null':
      return fc.constant(null)
    case 'array': {
      const minLength = schema.minItems ?? 0
      const maxLength = Math.min(schema.maxItems ?? 3, minLength + (ctx.depth >= MAX_DEPTH ? 0 : 3))
      return fc.array(arbitraryOf(schema.items ?? {}, ctx), { minLength, maxLength })
    }
    case 'object':
      return objectOf(schema, ctx)
    default:
      if (schema.properties) return objectOf(schema, ctx)
      return fc.jsonValue({ maxDepth: 2 })
  }
}

/** One change to a body: at the `pick`-th place (modulo how many there are). */
type Mutation =
  | { op: 'replace'; pick: number; value: unknown }
  | { op: 'drop'; pick: number }
  | { op: 'add'; pick: number; key: string; value: unknown }
  | { op: 'whole'; value: unknown }

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.record({ op: fc.constant('replace' as const), pick: fc.nat(), value: hostileValue }),
  },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('drop' as const), pick: fc.nat() }) },
  {
    weight: 2,
    arbitrary: fc.record({
      op: fc.constant('add' as const),
      pick: fc.nat(),
      key: fc.oneof(
        fc.string({ maxLength: 10 }),
        fc.constantFrom('__proto__', 'constructor', 'customerId', 'id'),
      ),
      value: hostileValue,
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      op: fc.constant('whole' as const),
      value: fc.oneof(hostileValue, fc.constantFrom('wrap-in-array')),
    }),
  },
)

type Container = Record<string, unknown> | unknown[]
const isContainer = (v: unknown): v is Container =>
  typeof v === 'object' && v !== null && !(v instanceof RawJson)

/** Every (container, key) place in `v`, outermost first. */
function places(v: unknown, out: [Container, string | number][] = []): [Container, string | number][] {
  if (!isContainer(v)) return out
  for (const k of Array.isArray(v) ? v.keys() : Object.keys(v)) {
    out.push([v, k])
    places((v as Record<string | number, unknown>)[k], out)
  }
  return out
}
const containers = (v: unknown, out: Container[] = []): Container[] => {
  if (!isContainer(v)) return out
  out.push(v)
  for (const x of Object.values(v)) containers(x, out)
  return out
}

/**
 * A deep copy (own keys, `__proto__` included, kept as keys): fast-check hands out the same
 * constant instances again, so nothing generated may be changed or shared in place.
 */
function copy(v: unknown): unknown {
  if (!isContainer(v)) return v
  if (Array.isArray(v)) return v.map(copy)
  const out: Record<string, unknown> = {}
  for (const [k, x] of Object.entries(v))
    Object.defineProperty(out, k, { value: copy(x), enumerable: true, configurable: true, writable: true })
  return out
}

export function mutate(body: unknown, mutations: Mutation[]): unknown {
  let v: unknown = copy(body)
  for (const m of mutations) {
    if (m.op === 'whole') {
      v = m.value === 'wrap-in-array' ? [v] : copy(m.value)
      continue
    }
    if (m.op === 'add') {
      const all = containers(v).filter((c) => !Array.isArray(c)) as Record<string, unknown>[]
      if (all.length)
        Object.defineProperty(all[m.pick % all.length], m.key, {
          value: copy(m.value),
          enumerable: true,
          configurable: true,
          writable: true,
        })
      continue
    }
    const all = places(v)
    if (!all.length) continue
    const [c, k] = all[m.pick % all.length]!
    if (m.op === 'replace') (c as Record<string | number, unknown>)[k] = copy(m.value)
    else if (Array.isArray(c)) c.splice(k as number, 1)
    else delete c[k as string]
  }
  return v
}

/** Bodies for a request schema: generated ones and known-good examples, and mutations of both. */
export function bodies(
  schema: Schema,
  defs: Record<string, Schema>,
  examples: unknown[],
): fc.Arbitrary<unknown> {
  const generated = arbitraryOf(schema, { defs, depth: 0 })
  const valid = examples.length ? fc.oneof(generated, fc.constantFrom(...examples)) : generated
  return fc.oneof(
    { weight: 1, arbitrary: valid },
    {
      weight: 4,
      arbitrary: fc
        .tuple(valid, fc.array(mutation, { minLength: 1, maxLength: 3 }))
        .map(([b, ms]) => mutate(b, ms)),
    },
  )
}
