// Expands a panel's SQL the way grafana-clickhouse-datasource 4.x does before ClickHouse sees it
// (see /work/shared/reference/grafana.md; the plugin's CHDatasource.applyTemplateVariables and
// pkg/macros/macros.go):
//   1. frontend: $__conditionalAll(cond, $var) → `1=1` when $var is All ('$__all') or empty, else cond;
//   2. frontend: Grafana's template replace with the plugin's formatter: a multi-value variable
//      becomes 'a','b' (quoted, comma-joined), a single value is inserted as is;
//   3. backend: the macros $__timeFilter, $__fromTime, $__toTime, $__timeInterval, $__interval_s,
//      $__dateFilter with the dashboard range (seconds since epoch) and the query interval.
export const ALL = '$__all'

export interface ExpandContext {
  from: Date
  to: Date
  /** Grafana's query interval for the panel, in seconds. */
  intervalSeconds: number
  /** Multi-value variables: selected values or ALL; single-value variables: the value. */
  variables: Record<string, readonly string[] | string>
}

/** Splits `(a, f(b, c))` starting at `open` into top-level args; returns them and the index after `)`. */
function macroArgs(sql: string, open: number): { args: string[]; end: number } {
  let depth = 0
  let start = open + 1
  const args: string[] = []
  for (let i = open; i < sql.length; i++) {
    const ch = sql[i]
    if (ch === '(') depth++
    else if (ch === ')') {
      depth--
      if (depth === 0) {
        args.push(sql.slice(start, i))
        return { args, end: i + 1 }
      }
    } else if (ch === ',' && depth === 1) {
      args.push(sql.slice(start, i))
      start = i + 1
    }
  }
  throw new Error(`unbalanced parentheses after ${sql.slice(0, open)}`)
}

function conditionalAll(sql: string, vars: ExpandContext['variables']): string {
  const macro = '$__conditionalAll('
  let at = sql.lastIndexOf(macro)
  while (at !== -1) {
    const { args, end } = macroArgs(sql, at + macro.length - 1)
    if (args.length !== 2) throw new Error(`$__conditionalAll takes 2 arguments: ${sql.slice(at, end)}`)
    const name = /\$\{?(\w+)\}?/.exec(args[1]!.trim())?.[1]
    const value = name === undefined ? undefined : vars[name]
    if (value === undefined) throw new Error(`$__conditionalAll names unknown variable ${args[1]}`)
    const all = value === ALL || value === '' || (Array.isArray(value) && value.join(',') === ALL)
    sql = sql.slice(0, at) + (all ? '1=1' : args[0]!) + sql.slice(end)
    at = sql.lastIndexOf(macro)
  }
  return sql
}

function templateReplace(sql: string, vars: ExpandContext['variables']): string {
  return sql.replace(/\$\{(\w+)\}|\$(\w+)|\[\[(\w+)\]\]/g, (match, a, b, c) => {
    const name = (a ?? b ?? c) as string
    const value = vars[name]
    if (value === undefined) return match // not a variable: a macro, left for the backend
    if (value === ALL) throw new Error(`variable $${name} is All outside $__conditionalAll`)
    return Array.isArray(value) ? `'${value.join("','")}'` : (value as string)
  })
}

const seconds = (d: Date) => Math.floor(d.getTime() / 1000)
const dateTime = (d: Date) => `toDateTime(${seconds(d)})`
const date = (d: Date) => `toDate('${d.toISOString().slice(0, 10)}')`

function backendMacros(sql: string, ctx: ExpandContext): string {
  const interval = Math.max(Math.floor(ctx.intervalSeconds), 1)
  const withArgs: Record<string, (args: string[]) => string> = {
    timeFilter: ([c]) => `${c} >= ${dateTime(ctx.from)} AND ${c} <= ${dateTime(ctx.to)}`,
    dateFilter: ([c]) => `${c} >= ${date(ctx.from)} AND ${c} <= ${date(ctx.to)}`,
    timeInterval: ([c]) => `toStartOfInterval(toDateTime(${c}), INTERVAL ${interval} second)`,
  }
  const plain: Record<string, string> = {
    fromTime: dateTime(ctx.from),
    toTime: dateTime(ctx.to),
    interval_s: String(interval),
  }
  let out = ''
  let rest = sql
  for (let m = /\$__(\w+)/.exec(rest); m; m = /\$__(\w+)/.exec(rest)) {
    const name = m[1]!
    out += rest.slice(0, m.index)
    const after = m.index + m[0].length
    const expand = withArgs[name]
    if (expand && rest[after] === '(') {
      const { args, end } = macroArgs(rest, after)
      if (args.length !== 1) throw new Error(`$__${name} takes 1 argument`)
      out += expand(args.map((a) => a.trim()))
      rest = rest.slice(end)
    } else if (name in plain) {
      out += plain[name]
      rest = rest.slice(after)
    } else {
      throw new Error(`unsupported macro ${m[0]}`)
    }
  }
  return out + rest
}

/** The SQL ClickHouse receives for this panel query, range, interval and variables. */
export function expandClickHouseSql(sql: string, ctx: ExpandContext): string {
  const out = backendMacros(templateReplace(conditionalAll(sql, ctx.variables), ctx.variables), ctx)
  const left = /\$\w+|\[\[\w+\]\]/.exec(out)
  if (left) throw new Error(`unexpanded ${left[0]} in: ${out}`)
  return out
}
