// The one rule for text a client sends, applied to every string (and object key) of every route's
// body, query and path, and to every telemetry event: no NUL, no other C0 control character but
// tab, line feed and carriage return, no DEL, and no lone UTF-16 surrogate. PostgreSQL refuses
// NUL and lone surrogates in text and jsonb, so one such byte in a shared statement (a group
// commit, a batch of job results) would fail every tenant's rows in it; refusing it at the door
// with a 400 naming the field keeps it out.
//
// The same walk bounds nesting: a value deeper than MAX_NESTING levels is refused with a 400 naming
// where it goes too deep. JSON.parse takes any depth, but every recursive walk after it (this one,
// JSON.stringify of a step's input into jsonb, PostgreSQL's own parser) exhausts its stack on a
// few thousand levels, which answered 500 before.
import type { FieldProblem } from '../errors.ts'

// C0 controls except \t \n \r, and DEL: matching them is the point of this pattern.
// biome-ignore lint/suspicious/noControlCharactersInRegex: the characters this rule refuses
const CONTROL = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F]/
// A high surrogate not followed by a low one, or a low one not preceded by a high one.
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/

function textProblem(s: string): string | undefined {
  if (CONTROL.test(s)) {
    const c = s.match(CONTROL)![0].charCodeAt(0)
    return `must not contain control character U+${c.toString(16).toUpperCase().padStart(4, '0')}`
  }
  if (LONE_SURROGATE.test(s)) return 'must not contain a lone UTF-16 surrogate'
  return undefined
}

/** Arrays and objects nested deeper than this in one value are refused. */
export const MAX_NESTING = 64

/**
 * Every string (or key) in `value` that breaks the rule, and every place nested deeper than
 * MAX_NESTING, named by its JSON path under `prefix`.
 */
export function badTextFields(value: unknown, prefix: (string | number)[] = [], limit = 100): FieldProblem[] {
  const out: FieldProblem[] = []
  const walk = (v: unknown, path: (string | number)[]) => {
    if (out.length >= limit) return
    if (v !== null && typeof v === 'object' && path.length - prefix.length >= MAX_NESTING) {
      out.push({
        path: path.join('.') || '(body)',
        message: `must not nest arrays or objects deeper than ${MAX_NESTING} levels`,
        code: 'too_deep',
      })
      return
    }
    if (typeof v === 'string') {
      const message = textProblem(v)
      if (message) out.push({ path: path.join('.') || '(body)', message, code: 'invalid_text' })
    } else if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) walk(v[i], [...path, i])
    } else if (v !== null && typeof v === 'object')
      for (const [k, x] of Object.entries(v)) {
        const keyProblem = textProblem(k)
        if (keyProblem)
          out.push({ path: [...path, '(key)'].join('.'), message: keyProblem, code: 'invalid_text' })
        else walk(x, [...path, k])
      }
  }
  walk(value, prefix)
  return out
}
