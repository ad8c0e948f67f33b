// `npm run lint` gate: no import cycle between modules. A module is each folder under src/ and each
// file at its root; every import counts (type-only imports and re-exports too). Dependency-cruiser
// reads the imports; this script groups them by module and reports each cycle (strongly connected
// component) with the file-level imports that close it.
import { cruise, type IReporterOutput } from 'dependency-cruiser'

const moduleOf = (file: string) => /^src\/[^/]+/.exec(file)?.[0] ?? file

const result: IReporterOutput = await cruise(['src'], {
  tsPreCompilationDeps: true,
  doNotFollow: { path: 'node_modules' },
  exclude: { path: 'node_modules' },
})
if (typeof result.output === 'string') throw new Error('dependency-cruiser gave no module graph')

const edges = new Map<string, Map<string, string[]>>()
for (const m of result.output.modules) {
  if (!m.source.startsWith('src/')) continue
  const from = moduleOf(m.source)
  for (const d of m.dependencies) {
    if (!d.resolved.startsWith('src/')) continue
    const to = moduleOf(d.resolved)
    if (to === from) continue
    const out = edges.get(from) ?? new Map<string, string[]>()
    out.set(to, [...(out.get(to) ?? []), `${m.source} -> ${d.resolved}`])
    edges.set(from, out)
  }
}

// Tarjan's strongly connected components over the module graph.
const index = new Map<string, number>()
const low = new Map<string, number>()
const stack: string[] = []
const onStack = new Set<string>()
const cycles: string[][] = []
let next = 0
function visit(v: string): void {
  index.set(v, next)
  low.set(v, next++)
  stack.push(v)
  onStack.add(v)
  for (const w of edges.get(v)?.keys() ?? []) {
    if (!index.has(w)) {
      visit(w)
      low.set(v, Math.min(low.get(v)!, low.get(w)!))
    } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!))
  }
  if (low.get(v) === index.get(v)) {
    const scc: string[] = []
    let w: string
    do {
      w = stack.pop()!
      onStack.delete(w)
      scc.push(w)
    } while (w !== v)
    if (scc.length > 1) cycles.push(scc.sort())
  }
}
for (const v of edges.keys()) if (!index.has(v)) visit(v)

if (cycles.length) {
  for (const scc of cycles) {
    console.error(`import cycle between modules: ${scc.join(', ')}`)
    for (const from of scc)
      for (const [to, via] of edges.get(from) ?? [])
        if (scc.includes(to)) console.error(`  ${from} -> ${to}: ${via.join('; ')}`)
  }
  process.exit(1)
}
console.log(`module-cycles: no import cycle between ${edges.size} modules`)
