// What is refused, on every route with a JSON body at once: thousands of bodies generated from each
// operation's request schema in /openapi.json (schema-arbitrary.ts: valid-ish bodies and hostile
// mutations of them and of known-good examples), sent as the admin and as a customer token. No
// answer is a 5xx; every 4xx is a problem (problem+json, or an OTLP Status on the OTLP routes)
// naming the field or the reason; and a 4xx changed no row (row triggers on every table count
// each insert, update and delete; a 2xx may change rows). Each answer is also checked against the
// document (s.api). Afterwards every read still answers over what the accepted bodies stored.
//
// Reproduce a failure with the seed it prints (the whole file: the admin's bodies set the scene
// of the customer's): FUZZ_SEED=<seed> npx vitest run test/http/fuzz.test.ts. FUZZ_RUNS=<n>
// bodies per operation and token (default 64); FUZZ_DEBUG=1 prints the failure's stack.
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ADMIN_TOKEN, type TestSteward } from '../helpers/app.ts'
import { serialize } from './hostile-values.ts'
import { exampleBody, type Json, type Operation, operationsOf, urlFor } from './operations.ts'
import { bodies } from './schema-arbitrary.ts'
import { settle, startTenancyScene, type TenancyScene, watchRowChanges } from './tenancy-scene.ts'

const SEED = Number(process.env.FUZZ_SEED ?? Date.now() % 2 ** 31)
const RUNS = Number(process.env.FUZZ_RUNS ?? 64)

let scene: TenancyScene
let s: TestSteward
let defs: Record<string, Json>
let operations: Operation[]
let reads: Operation[]
let rowChanges: () => Promise<Record<string, number>>
beforeAll(async () => {
  scene = await startTenancyScene()
  s = scene.s
  rowChanges = await watchRowChanges(s)
  const doc = (await (await s.api('GET', '/openapi.json', undefined, null)).json()) as Json
  defs = doc.components.schemas
  const all = await operationsOf(s)
  operations = all.filter((o) => o.op.requestBody?.content?.['application/json'])
  reads = all.filter((o) => o.method === 'GET')
})
afterAll(async () => {
  await scene?.s.stop()
})

/** The row changes to compare a refusal with; undefined after a 2xx (read again, once settled). */
let before: Record<string, number> | undefined

async function send(o: Operation, token: string, body: unknown): Promise<void> {
  if (!before) {
    await settle(s)
    before = await rowChanges()
  }
  const url = urlFor(o, scene, scene.a, false)
  const res = await s.api(o.method, url, serialize(body), token)
  const text = await res.text()
  const what = `${o.key} answered ${res.status}: ${text.slice(0, 500)}`
  expect(res.status, what).toBeLessThan(500)
  if (res.status < 400) {
    before = undefined
    return
  }
  const type = res.headers.get('content-type') ?? ''
  const problem = JSON.parse(text) as Json
  if (o.template.startsWith('/v1/otlp/')) {
    // OTLP answers errors as a google.rpc.Status in the request's encoding.
    expect(problem.message, what).toEqual(expect.stringMatching(/\S/))
  } else {
    expect(type, what).toContain('application/problem+json')
    expect(problem, what).toMatchObject({ status: res.status, title: expect.any(String) })
    expect(problem.detail, what).toEqual(expect.stringMatching(/\S/))
    for (const e of problem.errors ?? [])
      expect(e, what).toMatchObject({ path: expect.any(String), message: expect.stringMatching(/\S/) })
    if (String(problem.type).endsWith('/validation-failed') && res.status === 400)
      expect(problem.errors?.length, what).toBeGreaterThan(0)
  }
  const after = await rowChanges()
  const changed = Object.keys(after).filter((k) => after[k] !== before![k])
  expect(
    changed.map((k) => `${k} +${after[k]! - (before![k] ?? 0)}`),
    `${what}\nrows changed by a refused request`,
  ).toEqual([])
}

describe('bodies generated from the request schemas', () => {
  it('covers every route with a JSON body', () => {
    // A new route with a JSON body is fuzzed without a change here.
    expect(operations.map((o) => o.key)).toEqual(
      expect.arrayContaining([
        'POST /v1/customers',
        'POST /v1/events',
        'POST /v1/runs',
        'POST /v1/incident-silences',
      ]),
    )
    expect(operations.length).toBeGreaterThanOrEqual(16)
  })

  it('count the rows a request changes (the check a refusal must pass can fail)', async () => {
    await settle(s)
    const start = await rowChanges()
    expect((await s.api('POST', '/v1/customers', { id: 'fuzz-probe', name: 'Probe' })).status).toBe(201)
    expect(await rowChanges()).not.toEqual(start)
  })

  for (const who of ['admin', 'customer'] as const)
    it(`never answer 5xx, name the field of every 4xx and change nothing on one, sent by the ${who} (seed ${SEED})`, async () => {
      const token = who === 'admin' ? ADMIN_TOKEN : scene.a.token
      for (const [i, o] of operations.entries()) {
        const schema = o.op.requestBody.content['application/json'].schema
        const examples = [exampleBody(o, scene.a), exampleBody(o, scene.b)].filter((b) => b !== undefined)
        try {
          await fc.assert(
            fc.asyncProperty(bodies(schema, defs, examples), (body) => send(o, token, body)),
            { seed: SEED + i + (who === 'admin' ? 0 : 1000), numRuns: RUNS },
          )
        } catch (err) {
          const cause = (err as Error).cause as Error | undefined
          if (process.env.FUZZ_DEBUG) console.log((err as Error).stack, cause?.stack)
          throw new Error(
            `FUZZ_SEED=${SEED} ${o.key} as the ${who}: ${(err as Error).message}\n${cause?.message ?? ''}`,
          )
        }
      }
    }, 600_000)

  it('leave every read answering: what the fuzz stored breaks no page, report or listing', async () => {
    const month = new Date().toISOString().slice(0, 7)
    for (const o of reads)
      for (const [token, t] of [
        [ADMIN_TOKEN, scene.a],
        [scene.a.token, scene.a],
      ] as const) {
        const url = urlFor(o, scene, t, false).replace('month=2025-09', `month=${month}`)
        const res = await s.api(o.method, url, undefined, token)
        expect(res.status, `${o.key}: ${(await res.text()).slice(0, 300)}`).toBeLessThan(500)
      }
    // The monthly figures over everything stored, as a dry run of the close.
    const dry = await s.api('POST', `/v1/sla/recompute?month=${month}`)
    expect(dry.status, await dry.text()).toBe(200)
  })
})
