// What a query may be, decided on ClickHouse's own parse of it: the text checked here is the
// engine's canonical rendering of the one statement it parsed (formatQuerySingleLine: no comments,
// one statement, literals quoted one way), so a comment or a literal cannot hide anything from
// these checks, and the same text is what runs.
//
// Guarantees:
// - only SELECT, WITH … SELECT, SHOW, DESCRIBE and EXPLAIN run (READONLY otherwise);
// - INTO OUTFILE is refused (the embedded engine would write the file on this machine);
// - functions that read the machine's files (`file`) are refused: read-only mode does not stop
//   them in an embedded engine, which has no user_files_path restriction;
// - every SETTINGS clause of the statement is returned to go through the same allowlist as URL
//   settings: top-level ones are taken out of the text (read-only mode refuses them there, so they
//   are set on the session instead), subquery ones stay (the engine applies them to the subquery
//   even in read-only mode, where `readonly = 0` would re-enable table functions); a SETTINGS
//   clause these checks cannot read is refused.
import { chError } from './errors.ts'

const KINDS = new Set(['SELECT', 'WITH', 'SHOW', 'DESCRIBE', 'DESC', 'EXPLAIN'])
const DENIED_FUNCTIONS = new Set(['file'])

type Token = { t: 'word' | 'number' | 'quoted' | 'punct'; v: string; start: number; end: number }

/** Tokens of a canonical statement: words, numbers, quoted strings and identifiers, punctuation. */
function tokens(sql: string): Token[] {
  const out: Token[] = []
  for (let i = 0; i < sql.length; ) {
    const ch = sql[i]!
    let end = i + 1
    let t: Token['t'] = 'punct'
    if (/\s/.test(ch)) {
      i++
      continue
    }
    if (ch === "'" || ch === '`' || ch === '"') {
      while (end < sql.length && sql[end] !== ch) end += sql[end] === '\\' ? 2 : 1
      end++
      t = 'quoted'
    } else if (/[A-Za-z_]/.test(ch)) {
      end = i + /^[A-Za-z_][A-Za-z0-9_]*/.exec(sql.slice(i))![0].length
      t = 'word'
    } else if (/[0-9]/.test(ch)) {
      end = i + /^[0-9][0-9A-Za-z_.]*/.exec(sql.slice(i))![0].length
      t = 'number'
    }
    out.push({ t, v: sql.slice(i, end), start: i, end })
    i = end
  }
  return out
}

/** A SETTINGS list starting at toks[i]: its `name = value` pairs and the index after it, or undefined. */
function settingsList(toks: Token[], i: number): { pairs: [string, string][]; next: number } | undefined {
  const pairs: [string, string][] = []
  let j = i + 1
  for (;;) {
    const name = toks[j]
    if (name?.t !== 'word' || toks[j + 1]?.v !== '=') return undefined
    let k = j + 2
    const negative = toks[k]?.v === '-'
    if (negative) k++
    const value = toks[k]
    if (!value || (value.t !== 'number' && value.t !== 'quoted' && value.t !== 'word')) return undefined
    let raw = value.v
    if (value.t === 'quoted') {
      // Setting values the allowlist takes are plain words: a quoted value with escapes is refused there.
      raw = raw.startsWith("'") && !raw.includes('\\') ? raw.slice(1, -1) : raw
    }
    pairs.push([name.v, negative ? `-${raw}` : raw])
    j = k + 1
    if (toks[j]?.v !== ',') return { pairs, next: j }
    j++
  }
}

export interface Statement {
  /** The statement's first keyword (SELECT, WITH, SHOW, DESCRIBE, EXPLAIN). */
  kind: string
  /** The format named by the statement's FORMAT clause, if it has one. */
  format: string | undefined
  /** Its top-level SETTINGS, in order (to be checked and set on the session). */
  settings: [string, string][]
  /** SETTINGS of its subqueries (to be checked; they stay in the text). */
  nestedSettings: [string, string][]
  /** The statement without those SETTINGS clauses: what runs. */
  text: string
}

/** Checks a canonical statement (see the header) and returns what it is. */
export function inspectStatement(canonical: string): Statement {
  const toks = tokens(canonical)
  const first = toks.find((t) => t.v !== '(')
  const kind = first?.t === 'word' ? first.v.toUpperCase() : ''
  if (!KINDS.has(kind)) {
    throw chError(
      'READONLY',
      'steward: Cannot execute query in readonly mode: only SELECT, SHOW, DESCRIBE, EXPLAIN and WITH queries are allowed',
    )
  }
  let depth = 0
  let format: string | undefined
  const settings: [string, string][] = []
  const nestedSettings: [string, string][] = []
  const cut: [number, number][] = []
  for (let i = 0; i < toks.length; i++) {
    const tok = toks[i]!
    const next = toks[i + 1]
    if (tok.v === '(') depth++
    else if (tok.v === ')') depth--
    if (tok.t !== 'word') continue
    const word = tok.v.toUpperCase()
    if (word === 'INTO' && next?.t === 'word' && next.v.toUpperCase() === 'OUTFILE') {
      throw chError('INTO_OUTFILE_NOT_ALLOWED', 'INTO OUTFILE is not allowed')
    }
    if (DENIED_FUNCTIONS.has(tok.v.toLowerCase()) && next?.v === '(') {
      throw chError(
        'FUNCTION_NOT_ALLOWED',
        `Function ${tok.v} is not allowed through Steward's ClickHouse interface: it reads files of the server`,
      )
    }
    // SETTINGS as a clause: not a qualified name (system.settings), not SHOW SETTINGS.
    if (word === 'SETTINGS' && toks[i - 1]?.v !== '.' && toks[i - 1]?.v.toUpperCase() !== 'SHOW') {
      const list = settingsList(toks, i)
      if (!list) {
        throw chError('SETTING_CONSTRAINT_VIOLATION', 'a SETTINGS clause of the query could not be checked')
      }
      if (depth === 0) {
        settings.push(...list.pairs)
        cut.push([tok.start, toks[list.next - 1]!.end])
      } else {
        nestedSettings.push(...list.pairs)
      }
      i = list.next - 1
      continue
    }
    // FORMAT <name> at the top level, followed by nothing or by the SETTINGS clause.
    const after = toks[i + 2]
    if (
      depth === 0 &&
      word === 'FORMAT' &&
      next?.t === 'word' &&
      (after === undefined || (after.t === 'word' && after.v.toUpperCase() === 'SETTINGS'))
    ) {
      format = next.v
    }
  }
  let text = canonical
  for (const [from, to] of cut.reverse()) text = `${text.slice(0, from)}${text.slice(to)}`
  return { kind: kind === 'DESC' ? 'DESCRIBE' : kind, format, settings, nestedSettings, text: text.trim() }
}
