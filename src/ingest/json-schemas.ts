// JSON Schema of every telemetry event, generated from the zod schemas (zod 4 `z.toJSONSchema`).
// scripts/gen-event-schemas.ts writes them to schemas/events/; a test fails when they drift.
import { z } from 'zod'
import { eventSchemas, TelemetryEvent } from './events.ts'

/** File name (in schemas/events/) → JSON text, as producers send events (defaults optional). */
export function eventJsonSchemas(): Record<string, string> {
  const out: Record<string, string> = {}
  const render = (schema: z.ZodType, id: string, title: string) =>
    `${JSON.stringify(
      { $id: `https://steward.dev/schemas/events/${id}`, title, ...z.toJSONSchema(schema, { io: 'input' }) },
      null,
      2,
    )}\n`
  for (const [type, schema] of Object.entries(eventSchemas)) {
    const file = `${type}.schema.json`
    out[file] = render(schema, file, `Steward telemetry event: ${type}`)
  }
  out['telemetry-event.schema.json'] = render(
    TelemetryEvent,
    'telemetry-event.schema.json',
    'Steward telemetry event (any type, discriminated by `type`)',
  )
  return out
}
