// schemas/events/*.schema.json are generated from the zod event schemas and checked in: this
// fails when they drift (run `npm run gen:schemas` and commit the result).
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { schemasDir } from '../../src/db/migrate.ts'
import { eventSchemas } from '../../src/ingest/index.ts'
import { eventJsonSchemas } from '../../src/ingest/json-schemas.ts'

const dir = join(schemasDir, 'events')

describe('event JSON schemas', () => {
  it('match the zod event schemas (npm run gen:schemas regenerates them)', () => {
    const expected = eventJsonSchemas()
    const onDisk = readdirSync(dir).filter((f) => f.endsWith('.schema.json'))
    expect(onDisk.sort()).toEqual(Object.keys(expected).sort())
    for (const [file, text] of Object.entries(expected)) {
      expect(readFileSync(join(dir, file), 'utf8'), `${file} is stale: run npm run gen:schemas`).toBe(text)
    }
  })

  it('cover every event type, each requiring eventId, ts and its type', () => {
    for (const type of Object.keys(eventSchemas)) {
      const schema = JSON.parse(readFileSync(join(dir, `${type}.schema.json`), 'utf8'))
      expect(schema.required).toEqual(expect.arrayContaining(['eventId', 'ts', 'type']))
      expect(schema.properties.type.const).toBe(type)
      expect(schema.additionalProperties).toBe(false)
    }
  })
})
