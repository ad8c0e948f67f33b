// `npm run gen:schemas`: writes schemas/events/*.schema.json from the zod event schemas.
// test/ingest/event-schemas.test.ts fails when the checked-in files differ from what this writes.
import { mkdirSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { eventJsonSchemas } from '../src/ingest/json-schemas.ts'

const dir = join(dirname(fileURLToPath(import.meta.url)), '..', 'schemas', 'events')
mkdirSync(dir, { recursive: true })
for (const [file, text] of Object.entries(eventJsonSchemas())) {
  writeFileSync(join(dir, file), text)
  process.stdout.write(`wrote schemas/events/${file}\n`)
}
