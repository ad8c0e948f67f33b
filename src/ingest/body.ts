// Reading a POST /v1/events body as a stream: a JSON array of events, a sequence of JSON values
// (one event object, or events one per line without an NDJSON content type), or NDJSON (declared
// by the content type: each non-blank line is one event, checked on its own), optionally gzip.
//
// Guarantees (docs/security.md, "Bounded resources at the door"):
// - the body is never held whole: bytes are counted as they arrive (413 past `maxBodyBytes` on
//   the wire or `maxDecodedBytes` after gzip, which is decompressed as a stream), and each event
//   is handed to the sink as soon as it is parsed, so only the event being parsed is in memory
//   (at most about `maxEventBytes` characters: a bigger one is refused and reading stops);
// - reading stops as soon as the sink says so (the event limit or the error limit was reached):
//   the rest of the body is neither decompressed nor parsed.
import { JSONParser } from '@streamparser/json'
import {
  DomainError,
  type FieldProblem,
  PayloadTooLargeError,
  UnsupportedMediaTypeError,
  ValidationError,
} from '../errors.ts'

export interface BodyLimits {
  maxBodyBytes: number
  maxDecodedBytes: number
  maxEventBytes: number
}

/** Receives the body's events as they are parsed; either method returns false to stop reading. */
export interface EventSink {
  /** The event at `index` (its position in the array, or among the values / non-blank lines). */
  event(value: unknown, index: number): boolean
  /** A problem that is not one event's content: a line that is not JSON, an event too large. */
  problem(p: FieldProblem): boolean
}

/** The parser is fed in slices of this many characters (the unit of the event-size check). */
const SLICE = 16 * 1024

const tooLarge = (limitBytes: number) =>
  new PayloadTooLargeError(`the body exceeds ${limitBytes} bytes`, { limitBytes })

/** Passes bytes through, failing the stream with a 413 once more than `max` went by. */
function byteCap(max: number): TransformStream<Uint8Array, Uint8Array> {
  let seen = 0
  return new TransformStream({
    transform(chunk, controller) {
      seen += chunk.byteLength
      if (seen > max) controller.error(tooLarge(max))
      else controller.enqueue(chunk)
    },
  })
}

/** The body as text, decompressed and capped as it streams. */
function bodyText(req: Request, limits: BodyLimits): ReadableStream<string> {
  const encoding = (req.headers.get('content-encoding') ?? 'identity').trim().toLowerCase()
  if (!['identity', 'gzip', 'x-gzip'].includes(encoding)) {
    throw new UnsupportedMediaTypeError(
      `Content-Encoding "${encoding}" is not supported; send gzip or identity`,
    )
  }
  const declared = Number(req.headers.get('content-length') ?? Number.NaN)
  if (declared > limits.maxBodyBytes) throw tooLarge(limits.maxBodyBytes)
  let bytes = (req.body ?? new Blob([]).stream()).pipeThrough(byteCap(limits.maxBodyBytes))
  if (encoding !== 'identity')
    bytes = bytes
      .pipeThrough(new DecompressionStream('gzip') as unknown as TransformStream<Uint8Array, Uint8Array>)
      .pipeThrough(byteCap(limits.maxDecodedBytes))
  return bytes.pipeThrough(new TextDecoderStream() as unknown as TransformStream<Uint8Array, string>)
}

const notJson = (path: string, message: string): FieldProblem => ({ path, message, code: 'invalid_json' })

/** Each non-blank line one event (NDJSON); a line that is not JSON is a problem at its index. */
function lineSplitter(limits: BodyLimits, sink: EventSink) {
  let pending = ''
  let line = 0
  let index = 0
  let skipping = false // the current line was refused as too large: drop it up to its end
  const complete = (text: string): boolean => {
    line++
    if (skipping) {
      skipping = false
      return true
    }
    const src = text.trim()
    if (!src) return true
    const i = index++
    if (src.length > limits.maxEventBytes) return sink.problem(eventTooLarge(i, limits))
    let value: unknown
    try {
      value = JSON.parse(src)
    } catch (err) {
      return sink.problem(notJson(String(i), `line ${line} is not valid JSON: ${(err as Error).message}`))
    }
    return sink.event(value, i)
  }
  return {
    push(text: string): boolean {
      let start = 0
      for (let nl = text.indexOf('\n'); nl >= 0; nl = text.indexOf('\n', start)) {
        const ok = complete(pending + text.slice(start, nl))
        pending = ''
        start = nl + 1
        if (!ok) return false
      }
      if (!skipping) pending += text.slice(start)
      if (pending.length > limits.maxEventBytes) {
        pending = ''
        skipping = true
        return sink.problem(eventTooLarge(index++, limits))
      }
      return true
    },
    end: (): boolean => complete(pending),
  }
}

const eventTooLarge = (index: number, limits: BodyLimits): FieldProblem => ({
  path: String(index),
  message: `the event is larger than ${limits.maxEventBytes} characters`,
  code: 'too_big',
})

/**
 * A JSON array (its elements are the events) or a sequence of JSON values (each one an event),
 * parsed incrementally; a syntax error ends the body.
 */
function jsonSplitter(array: boolean, limits: BodyLimits, sink: EventSink) {
  const parser = array
    ? new JSONParser({ paths: ['$.*'], keepStack: false })
    : new JSONParser({ paths: ['$'], separator: '' })
  let index = 0
  let stopped = false
  // Characters fed since the last event was emitted: over the limit (plus one slice of slack, as
  // the count starts at a slice boundary) means the event in progress is too large.
  let sinceEvent = 0
  parser.onValue = ({ value }) => {
    sinceEvent = 0
    if (!stopped && !sink.event(value, index++)) stopped = true
  }
  const syntax = (err: unknown) =>
    array
      ? notJson('(body)', `not valid JSON: ${(err as Error).message}`)
      : notJson(String(index), `event ${index} is not valid JSON: ${(err as Error).message}`)
  return {
    push(text: string): boolean {
      for (let at = 0; at < text.length && !stopped; at += SLICE) {
        const slice = text.slice(at, at + SLICE)
        try {
          parser.write(slice)
        } catch (err) {
          sink.problem(syntax(err))
          return false
        }
        sinceEvent += slice.length
        if (sinceEvent > limits.maxEventBytes + SLICE) {
          sink.problem(eventTooLarge(index, limits))
          return false
        }
      }
      return !stopped
    },
    end(): boolean {
      if (stopped || parser.isEnded) return true
      if (array) return sink.problem(notJson('(body)', 'not valid JSON: the array is not closed'))
      try {
        parser.end()
      } catch (err) {
        return sink.problem(syntax(err))
      }
      return true
    },
  }
}

/**
 * Reads the body, handing each event to `sink` as it is parsed, until the body ends or the sink
 * stops it. Throws 413/415/400 for what no event names (size, encoding, gzip).
 */
export async function readEvents(
  req: Request,
  contentType: string,
  limits: BodyLimits,
  sink: EventSink,
): Promise<void> {
  const reader = bodyText(req, limits).getReader()
  const ndjson = /ndjson|jsonl|jsonlines/i.test(contentType)
  let splitter: ReturnType<typeof lineSplitter> | undefined
  let done = false
  try {
    for (;;) {
      const chunk = await reader.read()
      if (chunk.done) {
        done = true
        splitter?.end()
        return
      }
      if (!splitter) {
        // The first character that is not whitespace decides how a body not declared NDJSON is read.
        const first = /\S/.exec(chunk.value)?.[0]
        if (!ndjson && !first) continue
        splitter = ndjson ? lineSplitter(limits, sink) : jsonSplitter(first === '[', limits, sink)
      }
      if (!splitter.push(chunk.value)) return
    }
  } catch (err) {
    // zlib's errors (Z_DATA_ERROR, Z_BUF_ERROR: not gzip, or cut short) are the sender's.
    if (!(err instanceof DomainError) && /^Z_/.test(String((err as { code?: unknown })?.code)))
      throw new ValidationError([
        { path: '(body)', message: 'the body is not valid gzip', code: 'invalid_encoding' },
      ])
    throw err
  } finally {
    // Stopped early: the rest of the body is dropped unread.
    if (!done) await reader.cancel().catch(() => {})
  }
}
