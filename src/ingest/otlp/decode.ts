// Reading an OTLP/HTTP request body: binary protobuf (`application/x-protobuf`) or OTLP/JSON
// (`application/json`), gzip or not, into the protobufjs message of its signal (proto.ts).
//
// Guarantees (docs/security.md, "Bounded resources at the door"):
// - the body is held whole (protobuf is not a format that can be parsed as it streams), but never
//   more than `maxBytes`: counted as it arrives, on the wire and after gzip (413 past either);
// - a body that is not a message of its signal is a 400 naming what is wrong, decoded by
//   protobufjs (binary) or protobufjs's ProtoJSON parser (JSON) only: unknown JSON fields are
//   ignored as OTLP requires, trace and span ids are read as hex (OTLP/JSON's one departure from
//   the proto3 JSON mapping), 64-bit integers as numbers or decimal strings.
import protojson from 'protobufjs/ext/protojson.js'
import { UnsupportedMediaTypeError, ValidationError } from '../../errors.ts'
import { bodyBytes, senderError } from '../body.ts'
import { otlpTypes } from './proto.ts'

export type OtlpSignal = 'traces' | 'logs' | 'metrics'
export type OtlpEncoding = 'protobuf' | 'json'

export const PROTOBUF = 'application/x-protobuf'

/** The encoding a request declares; anything but protobuf or JSON is a 415. */
export function encodingOf(contentType: string | undefined): OtlpEncoding {
  const type = (contentType ?? '').split(';')[0]!.trim().toLowerCase()
  if (type === PROTOBUF || type === 'application/protobuf') return 'protobuf'
  if (type === 'application/json') return 'json'
  throw new UnsupportedMediaTypeError(
    `Content-Type "${type}" is not an OTLP encoding; send ${PROTOBUF} or application/json`,
  )
}

/** The whole body, decompressed, at most `maxBytes` on the wire and after gzip. */
export async function readBody(req: Request, maxBytes: number): Promise<Uint8Array> {
  const chunks: Uint8Array[] = []
  let size = 0
  try {
    for await (const chunk of bodyBytes(req, { maxBodyBytes: maxBytes, maxDecodedBytes: maxBytes })) {
      chunks.push(chunk)
      size += chunk.byteLength
    }
  } catch (err) {
    throw senderError(err)
  }
  return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size)
}

const bad = (message: string) =>
  new ValidationError(
    [{ path: '(body)', message: message.slice(0, 500), code: 'invalid_otlp' }],
    message.slice(0, 500),
  )

const ID_FIELDS = new Set(['traceId', 'spanId', 'parentSpanId'])

/** OTLP/JSON ids are hex; the proto3 JSON mapping (and so the parser) reads bytes as base64. */
function hexIds(key: string, value: unknown): unknown {
  if (!ID_FIELDS.has(key) || typeof value !== 'string') return value
  if (!/^(?:[0-9a-fA-F]{2})*$/.test(value))
    throw bad(`${key} ${JSON.stringify(value.slice(0, 40))} is not hex`)
  return Buffer.from(value, 'hex').toString('base64')
}

/** The request message of `signal` in `bytes`; a 400 when it is not one. */
export function decodeRequest(signal: OtlpSignal, encoding: OtlpEncoding, bytes: Uint8Array): unknown {
  const type = otlpTypes[signal].request
  if (encoding === 'protobuf') {
    try {
      return type.decode(bytes)
    } catch (err) {
      throw bad(`not a protobuf ${type.name}: ${(err as Error).message}`)
    }
  }
  let text: string
  let json: unknown
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes)
  } catch {
    throw bad('the body is not UTF-8')
  }
  try {
    json = JSON.parse(text, hexIds)
  } catch (err) {
    if (err instanceof ValidationError) throw err
    throw bad(`not valid JSON: ${(err as Error).message}`)
  }
  try {
    // One shape for both encodings: the parsed JSON goes through the binary form, so the mappers
    // read protobufjs messages (defaults, oneof names) whichever way the data came.
    const plain = protojson.fromJson(type, json, { ignoreUnknownFields: true })
    return type.decode(type.encode(plain).finish())
  } catch (err) {
    throw bad(
      `not an OTLP/JSON ${type.name}: ${(err as Error).message.replace(/^\.opentelemetry\.proto\./, '')}`,
    )
  }
}
