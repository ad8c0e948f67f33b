// `npm run bench [-- NAME...]`: runs the named benchmarks (bench/NAME.ts), or all of them.
// Each benchmark prints its figures last as one JSON line.
import { readdirSync } from 'node:fs'
import { dirname } from 'node:path'
import { fileURLToPath } from 'node:url'

const here = dirname(fileURLToPath(import.meta.url))
const available = readdirSync(here)
  .filter((f) => f.endsWith('.ts') && !['index.ts'].includes(f) && !f.startsWith('_'))
  .map((f) => f.replace(/\.ts$/, ''))
// A number is a flag's value (`--history 1000000`), not a benchmark's name.
const wanted = process.argv.slice(2).filter((a) => !a.startsWith('-') && !/^[\d.]+$/.test(a))
const names = wanted.length ? wanted : available
for (const name of names) {
  if (!available.includes(name)) {
    process.stderr.write(`unknown benchmark "${name}"; available: ${available.join(', ') || '(none)'}\n`)
    process.exit(2)
  }
}
for (const name of names) {
  process.stdout.write(`\n## bench ${name}\n`)
  const mod = (await import(`./${name}.ts`)) as { run: (args: string[]) => Promise<void> }
  await mod.run(process.argv.slice(2))
}
process.exit(0)
