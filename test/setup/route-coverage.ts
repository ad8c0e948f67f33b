// Route coverage: every operation of /openapi.json must answer a 2xx, checked against its schema,
// somewhere in the suite. The conformance check (test/helpers/conformance.ts) writes, from each
// test process, the documented operations and each operation it saw answer a 2xx to a directory
// this reporter creates; at the end of a run of the whole suite the reporter lists every documented
// operation no test saw succeed (and fails the run when STEWARD_ROUTE_COVERAGE_STRICT is set). A run
// of some files only is not judged.
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Reporter, TestModule, Vitest } from 'vitest/node'

/** The environment variable naming the directory (inherited by the test processes). */
export const ROUTE_COVERAGE_DIR = 'STEWARD_ROUTE_COVERAGE_DIR'

export default class RouteCoverageReporter implements Reporter {
  private vitest: Vitest | undefined
  private dir = ''

  onInit(vitest: Vitest) {
    this.vitest = vitest
    this.dir = mkdtempSync(join(tmpdir(), 'steward-route-coverage-'))
    process.env[ROUTE_COVERAGE_DIR] = this.dir
  }

  async onTestRunEnd(modules: ReadonlyArray<TestModule>) {
    if (!this.dir) return
    try {
      const all = await this.vitest!.globTestSpecifications()
      const ran = new Set(modules.map((m) => m.moduleId))
      const whole = all.every((s) => ran.has(s.moduleId))
      if (!whole) return
      const documented = new Set<string>()
      const covered = new Set<string>()
      for (const f of readdirSync(this.dir)) {
        const text = readFileSync(join(this.dir, f), 'utf8')
        if (f.startsWith('documented-')) for (const op of JSON.parse(text) as string[]) documented.add(op)
        else for (const op of text.split('\n')) if (op) covered.add(op)
      }
      const missing = [...documented].filter((op) => !covered.has(op)).sort()
      if (missing.length === 0) {
        process.stdout.write(`route coverage: all ${documented.size} documented operations answered a 2xx\n`)
        return
      }
      process.stderr.write(
        `route coverage: ${missing.length} of ${documented.size} documented operations never answered a 2xx in any test:\n${missing.map((m) => `  ${m}`).join('\n')}\n`,
      )
      if (process.env.STEWARD_ROUTE_COVERAGE_STRICT) process.exitCode = 1
    } finally {
      rmSync(this.dir, { recursive: true, force: true })
      this.dir = ''
    }
  }
}
