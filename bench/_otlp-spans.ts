// OTLP trace bodies for the ingest benchmark (bench/ingest.ts), and the rows the receiver makes of
// them (the raw-insert reference inserts exactly these). Not a benchmark itself (its name starts
// with `_`, which bench/index.ts skips).
//
// A batch is one ExportTraceServiceRequest (binary protobuf, encoded with the receiver's own
// protobufjs types) from one resource naming its customer: half GenAI model calls with token counts
// (a row of otel_traces and a usage event each), half plain server spans (a row of otel_traces).
import { randomBytes } from 'node:crypto'
import { OtlpAdmission } from '../src/ingest/otlp/admit.ts'
import { otlpTypes } from '../src/ingest/otlp/proto.ts'
import { type TracesRequest, traceDrafts } from '../src/ingest/otlp/traces.ts'
import { type OutboxTarget, type TableRow, tableRow } from '../src/ingest/targets.ts'

const str = (key: string, v: string) => ({ key, value: { stringValue: v } })
const int = (key: string, v: number) => ({ key, value: { intValue: v } })

/**
 * One request of `n` spans of customer `customer` (admin token: the resource names it), as the
 * plain object protobufjs's fromObject takes (times as decimal strings: nanoseconds pass 2^53).
 */
function request(n: number, customer: string): Record<string, unknown> {
  const endNs = BigInt(Date.now()) * 1_000_000n
  const spans = Array.from({ length: n }, (_, i) => {
    const genAi = i % 2 === 0
    const end = endNs - BigInt(n - i) * 1_000_000n
    return {
      traceId: randomBytes(16),
      spanId: randomBytes(8),
      parentSpanId: randomBytes(8),
      name: genAi ? 'chat model-a' : 'POST /work',
      kind: genAi ? 3 : 2,
      startTimeUnixNano: (end - 40_000_000n).toString(),
      endTimeUnixNano: end.toString(),
      attributes: genAi
        ? [
            str('gen_ai.operation.name', 'chat'),
            str('gen_ai.provider.name', 'openai'),
            str('gen_ai.request.model', 'model-a'),
            str('gen_ai.response.model', 'model-a-2026'),
            int('gen_ai.usage.input_tokens', 1000 + i),
            int('gen_ai.usage.output_tokens', 200),
            int('gen_ai.usage.cache_read.input_tokens', 400),
            int('gen_ai.usage.reasoning.output_tokens', 50),
          ]
        : [
            str('http.request.method', 'POST'),
            str('url.path', '/work'),
            int('http.response.status_code', 200),
          ],
      status: { code: 1 },
    }
  })
  return {
    resourceSpans: [
      {
        resource: { attributes: [str('service.name', 'agent'), str('steward.customer_id', customer)] },
        scopeSpans: [{ scope: { name: 'bench', version: '1.0.0' }, spans }],
      },
    ],
  }
}

export interface SpanBatch {
  /** The binary OTLP body. */
  body: Uint8Array
  /** What the receiver stores of it, by table, as the relay inserts it. */
  rows: Map<OutboxTarget, TableRow[]>
}

/** `total` spans in batches of `size`, each with the rows the receiver makes of it. */
export async function spanBatches(
  total: number,
  size: number,
  limits: ConstructorParameters<typeof OtlpAdmission>[1],
): Promise<SpanBatch[]> {
  const out: SpanBatch[] = []
  const type = otlpTypes.traces.request
  for (let b = 0; b * size < total; b++) {
    const message = type.fromObject(request(Math.min(size, total - b * size), `cust-${b % 20}`))
    const body = type.encode(message).finish()
    // The receiver's path, up to the outbox: decode, map, admit (bench/ingest.ts times the rest).
    const decoded = type.decode(body) as unknown as TracesRequest
    const verdict = await new OtlpAdmission(
      { kind: 'admin' },
      limits,
      traceDrafts(decoded, { kind: 'admin' }),
    ).judge()
    if (verdict.rejected) throw new Error(`bench spans refused: ${verdict.message}`)
    const rows = new Map<OutboxTarget, TableRow[]>()
    for (const item of verdict.items) {
      const mapped = tableRow(item.target, JSON.parse(item.body), 'operator', item.customerId)
      if (!mapped.ok) throw new Error(`bench row not mapped: ${mapped.error}`)
      rows.set(item.target, [...(rows.get(item.target) ?? []), mapped.row])
    }
    out.push({ body, rows })
  }
  return out
}
