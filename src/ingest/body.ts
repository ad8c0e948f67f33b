// Reading and validating a POST /v1/events body: a JSON array or NDJSON (one event per line),
// optionally gzip-compressed. The whole batch is checked before anything is stored; every bad
// event is named by its index (its position in the array, or among the non-blank NDJSON lines).
import { promisify } from 'node:util'
import { gunzip } from 'node:zlib'
import {
  type FieldProblem,
  ForbiddenError,
  PayloadTooLargeError,
  UnsupportedMediaTypeError,
  ValidationError,
  zodFields,
} from '../errors.ts'
import { TelemetryEvent } from './events.ts'

const gunzipAsync = promisify(gunzip)

/** Most problems listed in one 400 (the detail still counts them all). */
const MAX_LISTED_ERRORS = 100

export interface BodyLimits {
  maxBodyBytes: number
  maxDecodedBytes: number
  maxEventsPerRequest: number
}

const tooLarge = (limitBytes: number) =>
  new PayloadTooLargeError(`the body exceeds ${limitBytes} bytes`, { limitBytes })

/** Reads the body, refusing (413) as soon as it passes the limit, and decompresses gzip. */
export async function readEventsBody(req: Request, limits: BodyLimits): Promise<string> {
  const encoding = (req.headers.get('content-encoding') ?? 'identity').trim().toLowerCase()
  if (!['identity', 'gzip', 'x-gzip'].includes(encoding)) {
    throw new UnsupportedMediaTypeError(
      `Content-Encoding "${encoding}" is not supported; send gzip or identity`,
    )
  }
  const declared = Number(req.headers.get('content-length') ?? Number.NaN)
  if (declared > limits.maxBodyBytes) throw tooLarge(limits.maxBodyBytes)
  const chunks: Uint8Array[] = []
  let size = 0
  if (req.body) {
    const reader = req.body.getReader()
    for (;;) {
      const { done, value } = await reader.read()
      if (done) break
      size += value.byteLength
      if (size > limits.maxBodyBytes) {
        await reader.cancel().catch(() => {})
        throw tooLarge(limits.maxBodyBytes)
      }
      chunks.push(value)
    }
  }
  const raw = Buffer.concat(chunks)
  if (encoding === 'identity') return raw.toString('utf8')
  try {
    return (await gunzipAsync(raw, { maxOutputLength: limits.maxDecodedBytes })).toString('utf8')
  } catch (err) {
    if (err instanceof RangeError || (err as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') {
      throw tooLarge(limits.maxDecodedBytes)
    }
    throw new ValidationError([
      { path: '(body)', message: 'the body is not valid gzip', code: 'invalid_encoding' },
    ])
  }
}

/**
 * Splits the body into raw events: a JSON array (or a single JSON object), else NDJSON. A body
 * declared as NDJSON, or one that is not a single JSON value, is read line by line.
 */
export function splitEvents(text: string, contentType: string): { items: unknown[]; errors: FieldProblem[] } {
  const declaredNdjson = /ndjson|jsonl|jsonlines/i.test(contentType)
  if (!declaredNdjson) {
    let whole: unknown
    let parsed = false
    try {
      whole = JSON.parse(text)
      parsed = true
    } catch (err) {
      if (text.trimStart().startsWith('[')) {
        const message = `not valid JSON: ${(err as Error).message}`
        return { items: [], errors: [{ path: '(body)', message, code: 'invalid_json' }] }
      }
    }
    if (parsed) return { items: Array.isArray(whole) ? whole : [whole], errors: [] }
  }
  const items: unknown[] = []
  const errors: FieldProblem[] = []
  const lines = text.split('\n')
  for (let line = 0; line < lines.length; line++) {
    const src = lines[line]!.trim()
    if (!src) continue
    try {
      items.push(JSON.parse(src))
    } catch (err) {
      errors.push({
        path: String(items.length),
        message: `line ${line + 1} is not valid JSON: ${(err as Error).message}`,
        code: 'invalid_json',
      })
      items.push(undefined)
    }
  }
  return { items, errors }
}

/**
 * Validates every event; a customer token's events default to, and must belong to, its customer.
 * Throws a 400 naming each bad field (or 403 when the only problem is another customer's events).
 */
export function validateEvents(
  items: unknown[],
  initial: FieldProblem[],
  ownCustomer: string | undefined,
): TelemetryEvent[] {
  const errors = [...initial]
  const foreign: FieldProblem[] = []
  const bad = new Set(initial.map((e) => e.path))
  const events: TelemetryEvent[] = []
  items.forEach((item, i) => {
    if (bad.has(String(i))) return
    let input = item
    if (ownCustomer !== undefined && item && typeof item === 'object' && !Array.isArray(item)) {
      const obj = item as Record<string, unknown>
      if (obj.customerId === undefined) input = { ...obj, customerId: ownCustomer }
    }
    const r = TelemetryEvent.safeParse(input)
    if (!r.success) {
      errors.push(...zodFields(r.error, [i]))
      return
    }
    if (ownCustomer !== undefined && r.data.customerId !== ownCustomer) {
      foreign.push({
        path: `${i}.customerId`,
        message: `this token may only send events of customer ${ownCustomer}`,
        code: 'forbidden_customer',
      })
    }
    events.push(r.data)
  })
  if (errors.length > 0) {
    const all = [...errors, ...foreign]
    throw new ValidationError(
      all.slice(0, MAX_LISTED_ERRORS),
      `${all.length} problem${all.length === 1 ? '' : 's'} in the batch (the first ${Math.min(all.length, MAX_LISTED_ERRORS)} listed); nothing was stored`,
    )
  }
  if (foreign.length > 0) {
    throw new ForbiddenError(
      `${foreign.length} event${foreign.length === 1 ? '' : 's'} belong to another customer; nothing was stored`,
      { errors: foreign.slice(0, MAX_LISTED_ERRORS) },
    )
  }
  if (events.length === 0) {
    throw new ValidationError([{ path: '(body)', message: 'the batch holds no events', code: 'too_small' }])
  }
  return events
}
