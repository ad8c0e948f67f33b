// Checks real responses against the OpenAPI document the server serves: the status must be
// documented for the route, the content type must be one the route declares, and a JSON body must
// validate against the declared schema (JSON Schema 2020-12, as OpenAPI 3.1 uses), with every
// object closed: a field the document does not describe is an error, so a client generated from
// /openapi.json knows everything it gets back. Every test's `s.api(...)` call goes through it.
import { appendFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js'
import formats from 'ajv-formats'
import { ROUTE_COVERAGE_DIR } from '../setup/route-coverage.ts'

// ajv-formats is CommonJS with its function also on `.default`; the types only know the latter.
const addFormats = formats as unknown as typeof formats.default

interface MediaType {
  schema?: unknown
}
interface Operation {
  responses?: Record<string, { content?: Record<string, MediaType> }>
}
export interface OpenApiDocument {
  paths: Record<string, Record<string, Operation>>
  components?: { schemas?: Record<string, unknown> }
}

type Json = Record<string, unknown>
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v)

/** Closes every object schema that does not say otherwise (additionalProperties: false). */
function closeObjects(schema: unknown, underComposition = false): unknown {
  if (Array.isArray(schema)) return schema.map((s) => closeObjects(s, underComposition))
  if (!isObject(schema)) return schema
  const out: Json = {}
  for (const [k, v] of Object.entries(schema)) {
    const composing = k === 'allOf'
    out[k] =
      k === 'properties' && isObject(v)
        ? Object.fromEntries(Object.entries(v).map(([p, s]) => [p, closeObjects(s)]))
        : closeObjects(v, composing)
  }
  if (
    out.type === 'object' &&
    isObject(out.properties) &&
    !('additionalProperties' in out) &&
    !underComposition
  )
    out.additionalProperties = false
  return out
}

/** The document's component schemas are registered as `openapi#/$defs/…`: refs point there. */
const toAjvRefs = (schema: unknown): unknown =>
  JSON.parse(JSON.stringify(schema).replaceAll('"#/components/schemas/', '"openapi#/$defs/'))

export class Conformance {
  // Strict: a schema with keywords JSON Schema does not know (e.g. a serialised zod object where a
  // schema should be) fails to compile instead of validating anything.
  private readonly ajv = new Ajv2020({
    strict: true,
    strictRequired: false,
    strictTypes: false,
    allErrors: true,
  })
  private readonly routes: { method: string; template: string; re: RegExp; params: number; op: Operation }[] =
    []
  private readonly compiled = new Map<unknown, ValidateFunction>()

  constructor(doc: OpenApiDocument) {
    addFormats(this.ajv)
    // The route-coverage reporter (test/setup/route-coverage.ts) compares these with the 2xx seen.
    const dir = process.env[ROUTE_COVERAGE_DIR]
    if (dir) {
      const documented = Object.entries(doc.paths).flatMap(([t, ops]) =>
        Object.keys(ops).map((m) => `${m.toUpperCase()} ${t}`),
      )
      writeFileSync(join(dir, `documented-${process.pid}.json`), JSON.stringify(documented))
    }
    // OpenAPI's own annotation keywords.
    this.ajv.addVocabulary(['example', 'discriminator', 'xml', 'externalDocs'])
    this.ajv.addSchema({ $id: 'openapi', $defs: toAjvRefs(closeObjects(doc.components?.schemas ?? {})) })
    for (const [template, ops] of Object.entries(doc.paths)) {
      const pattern = template.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{[^}]+\}/g, '[^/]+')
      for (const [method, op] of Object.entries(ops))
        this.routes.push({
          method: method.toUpperCase(),
          template,
          re: new RegExp(`^${pattern}/?$`),
          params: (template.match(/\{/g) ?? []).length,
          op,
        })
    }
  }

  private validator(schema: unknown): ValidateFunction {
    const known = this.compiled.get(schema)
    if (known) return known
    {
      // Refs point into the document's components: resolve them against the registered document.
      const v = this.ajv.compile(toAjvRefs(closeObjects(schema)) as object)
      this.compiled.set(schema, v)
      return v
    }
  }

  /** Throws an Error describing how `res` departs from the document (undocumented routes pass). */
  async check(method: string, url: string, res: Response): Promise<void> {
    const path = new URL(url, 'http://steward.test').pathname
    const route = this.routes
      .filter((r) => r.method === method.toUpperCase() && r.re.test(path))
      .sort((a, b) => a.params - b.params)[0]
    if (!route) return
    await this.checkRoute(route, res)
    const dir = process.env[ROUTE_COVERAGE_DIR]
    if (dir && res.status >= 200 && res.status < 300)
      appendFileSync(join(dir, `covered-${process.pid}.txt`), `${route.method} ${route.template}\n`)
  }

  private async checkRoute(route: { method: string; template: string; op: Operation }, res: Response) {
    const where = `${route.method} ${route.template} answered ${res.status}`
    const documented = route.op.responses?.[String(res.status)]
    if (!documented) {
      const body = await res.clone().text()
      throw new Error(`${where}, which the OpenAPI document does not declare: ${body.slice(0, 500)}`)
    }
    const content = documented.content
    const type = (res.headers.get('content-type') ?? '').split(';')[0]!.trim()
    if (!content || Object.keys(content).length === 0) {
      if (res.status !== 204 && (await res.clone().text()).length > 0)
        throw new Error(`${where} with a body the document does not declare`)
      return
    }
    const media = content[type]
    if (!media)
      throw new Error(`${where} as ${type}; the document declares ${Object.keys(content).join(', ')}`)
    if (!type.includes('json') || media.schema === undefined) return
    const body = (await res.clone().json()) as unknown
    const validate = this.validator(media.schema)
    if (!validate(body)) {
      const problems = (validate.errors ?? [])
        .slice(0, 10)
        .map(
          (e) =>
            `${e.instancePath || '(body)'} ${e.message}${e.params && 'additionalProperty' in e.params ? ` (${String(e.params.additionalProperty)})` : ''}`,
        )
      throw new Error(`${where} with a body that does not match its schema: ${problems.join('; ')}`)
    }
  }
}
