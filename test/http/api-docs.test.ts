// docs/api.md lists exactly the routes of the OpenAPI document, so the docs stay true to the code.
import { readFileSync } from 'node:fs'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { startTestSteward, type TestSteward } from '../helpers/app.ts'

let s: TestSteward
beforeAll(async () => {
  s = await startTestSteward()
})
afterAll(async () => {
  await s?.stop()
})

it('documents every route of the OpenAPI document in docs/api.md, and no other', async () => {
  const doc = (await (await s.api('GET', '/openapi.json', undefined, null)).json()) as {
    paths: Record<string, Record<string, unknown>>
  }
  const served = Object.entries(doc.paths)
    .flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`))
    .sort()
  const md = readFileSync(new URL('../../docs/api.md', import.meta.url), 'utf8')
  const documented = [...md.matchAll(/^\| (GET|POST|PUT|PATCH|DELETE) \| `([^`]+)` \|/gm)]
    .map((m) => `${m[1]} ${m[2]}`)
    .sort()
  expect(documented).toEqual(served)
})
