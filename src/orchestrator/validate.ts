// The POST /v1/runs body, validated completely before anything is stored: its shape, then each
// step's kind and input (against that kind's schema in the set of handlers the server knows), its
// fallback, duplicate keys, unknown and cyclic dependencies. Every problem is reported at once,
// each naming its field.
import { z } from '@hono/zod-openapi'
import { type FieldProblem, ValidationError } from '../errors.ts'
import type { Handlers } from './handlers.ts'

const Name = z.string().min(1).max(128)
const StepKey = z
  .string()
  .regex(
    /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/,
    'letters, digits, _ . - ; at most 128; starting with a letter or digit',
  )

export const StepSchema = z
  .object({
    key: StepKey,
    kind: Name,
    input: z.unknown().optional(),
    dependsOn: z.array(StepKey).max(100).optional(),
    retry: z
      .object({
        maxAttempts: z.number().int().min(1).max(100).optional(),
        backoffMs: z.number().int().min(0).max(3_600_000).optional(),
      })
      .strict()
      .optional(),
    timeoutMs: z.number().int().min(1).max(86_400_000).optional(),
    fallback: z.object({ kind: Name, input: z.unknown().optional() }).strict().optional(),
  })
  .strict()

const RunShape = z
  .object({
    customerId: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/, 'not a customer id'),
    projectId: Name,
    type: Name,
    priority: z.number().int().min(-1000).max(1000).default(0),
    idempotencyKey: z.string().min(1).max(200).optional(),
    steps: z.array(StepSchema).min(1).max(1000),
  })
  .strict()

type Ctx = z.core.$RefinementCtx<z.output<typeof RunShape>>

function checkInput(
  ctx: Ctx,
  handlers: Handlers,
  kind: string,
  input: unknown,
  path: (string | number)[],
): void {
  const def = handlers.get(kind)
  if (!def) {
    ctx.addIssue({
      code: 'custom',
      path: [...path.slice(0, -1), 'kind'],
      message: `unknown job kind "${kind}"`,
    })
    return
  }
  const r = def.inputSchema.safeParse(input ?? {})
  if (!r.success)
    for (const i of r.error.issues)
      ctx.addIssue({ code: 'custom', path: [...path, ...i.path], message: i.message })
}

/** Cycles among steps, each as the list of keys on it. */
function findCycle(steps: { key: string; dependsOn?: string[] }[]): string[] | undefined {
  const deps = new Map(steps.map((s) => [s.key, s.dependsOn ?? []]))
  const state = new Map<string, 'visiting' | 'done'>()
  const stack: string[] = []
  const visit = (k: string): string[] | undefined => {
    if (state.get(k) === 'done') return
    if (state.get(k) === 'visiting') return [...stack.slice(stack.indexOf(k)), k]
    state.set(k, 'visiting')
    stack.push(k)
    for (const d of deps.get(k) ?? []) {
      if (!deps.has(d)) continue
      const c = visit(d)
      if (c) return c
    }
    stack.pop()
    state.set(k, 'done')
  }
  for (const s of steps) {
    const c = visit(s.key)
    if (c) return c
  }
}

/** The body of POST /v1/runs, its kinds and inputs checked against `handlers`. */
export const runRequestSchema = (handlers: Handlers) =>
  RunShape.superRefine((run, ctx) => {
    const keys = new Map<string, number>()
    run.steps.forEach((s, i) => {
      if (keys.has(s.key))
        ctx.addIssue({
          code: 'custom',
          path: ['steps', i, 'key'],
          message: `duplicate step key "${s.key}" (also steps.${keys.get(s.key)})`,
        })
      else keys.set(s.key, i)
    })
    run.steps.forEach((s, i) => {
      checkInput(ctx, handlers, s.kind, s.input, ['steps', i, 'input'])
      if (s.fallback)
        checkInput(ctx, handlers, s.fallback.kind, s.fallback.input ?? s.input, [
          'steps',
          i,
          'fallback',
          'input',
        ])
      s.dependsOn?.forEach((d, j) => {
        if (d === s.key)
          ctx.addIssue({
            code: 'custom',
            path: ['steps', i, 'dependsOn', j],
            message: 'a step cannot depend on itself',
          })
        else if (!keys.has(d))
          ctx.addIssue({ code: 'custom', path: ['steps', i, 'dependsOn', j], message: `unknown step "${d}"` })
      })
    })
    const cycle = findCycle(
      run.steps.map((s) => ({ ...s, dependsOn: s.dependsOn?.filter((d) => d !== s.key) })),
    )
    if (cycle)
      ctx.addIssue({
        code: 'custom',
        path: ['steps', keys.get(cycle[0]!) ?? 0, 'dependsOn'],
        message: `dependency cycle: ${cycle.join(' -> ')}`,
      })
  }).openapi('RunRequest')

export type RunRequest = z.output<typeof RunShape>

/**
 * What a customer's own settings allow its token to ask for: a priority inside its range and only
 * the job kinds (fallbacks included) it may use. A 422 names every field outside them.
 */
export function checkCustomerSettings(
  run: RunRequest,
  settings: { priority: { min: number; max: number }; allowedKinds: string[] | null },
): void {
  const fields: FieldProblem[] = []
  const { min, max } = settings.priority
  if (run.priority < min || run.priority > max)
    fields.push({ path: 'priority', message: `this customer's runs may use priorities ${min} to ${max}` })
  const allowed = settings.allowedKinds && new Set(settings.allowedKinds)
  if (allowed)
    run.steps.forEach((s, i) => {
      if (!allowed.has(s.kind))
        fields.push({ path: `steps.${i}.kind`, message: `this customer may not use kind "${s.kind}"` })
      if (s.fallback && !allowed.has(s.fallback.kind))
        fields.push({
          path: `steps.${i}.fallback.kind`,
          message: `this customer may not use kind "${s.fallback.kind}"`,
        })
    })
  if (fields.length)
    throw new ValidationError(
      fields,
      "the run asks for more than this customer's settings allow",
      'unprocessable',
    )
}
