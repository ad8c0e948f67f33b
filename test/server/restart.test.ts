// `steward serve` on the embedded engines, as a real process: clean shutdown, restart on the same
// data dir, and recovery after SIGKILL (which leaves the embedded PostgreSQL orphaned).
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { freePort } from '../../src/db/postgres.ts'
import { type StewardProcess, spawnSteward, waitForStatus } from '../helpers/process.ts'

const token = 'restart-test-admin-token-0123'
const dataDir = mkdtempSync(join(tmpdir(), 'steward-restart-'))
const running: StewardProcess[] = []
afterAll(async () => {
  for (const p of running) p.child.kill('SIGKILL')
})

async function serve(): Promise<{ proc: StewardProcess; url: string }> {
  const port = await freePort()
  const proc = spawnSteward(['serve', '--port', String(port), '--workers', '0'], {
    STEWARD_DATA_DIR: dataDir,
    STEWARD_ADMIN_TOKEN: token,
    HOST: '127.0.0.1',
  })
  running.push(proc)
  const url = `http://127.0.0.1:${port}`
  await waitForStatus(`${url}/readyz`, 200, 90_000).catch((err) => {
    throw new Error(`${(err as Error).message}\n--- output ---\n${proc.output()}`)
  })
  return { proc, url }
}

const api = (url: string, path: string, init: RequestInit = {}) =>
  fetch(`${url}${path}`, {
    ...init,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...init.headers },
  })

describe('steward serve on embedded engines', () => {
  it('reports both engines embedded, and keeps its data across a clean restart', async () => {
    const first = await serve()
    const ready = (await (await fetch(`${first.url}/readyz`)).json()) as Record<string, string>
    expect(ready).toMatchObject({ postgres: 'embedded', clickhouse: 'embedded' })
    expect(
      (await api(first.url, '/v1/customers', { method: 'POST', body: '{"id":"kept","name":"Kept"}' })).status,
    ).toBe(201)

    first.proc.child.kill('SIGTERM')
    expect(await first.proc.exited).toBe(0)
    expect(first.proc.output()).toMatch(/SIGTERM: shutting down/)

    const second = await serve()
    expect((await api(second.url, '/v1/customers/kept')).status).toBe(200)
    second.proc.child.kill('SIGTERM')
    expect(await second.proc.exited).toBe(0)
    // Two serve processes starting embedded engines one after the other: slow on a busy machine.
  }, 300_000)

  it('starts again on the same data after being killed with SIGKILL', async () => {
    const victim = await serve()
    victim.proc.child.kill('SIGKILL')
    await victim.proc.exited
    const next = await serve()
    expect(next.proc.output()).toMatch(/orphaned embedded PostgreSQL/)
    expect((await api(next.url, '/v1/customers/kept')).status).toBe(200)
    next.proc.child.kill('SIGTERM')
    expect(await next.proc.exited).toBe(0)
  }, 300_000)

  it("finds both engines' migrations already applied on `steward migrate`", async () => {
    const migrate = spawnSteward(['migrate'], { STEWARD_DATA_DIR: dataDir })
    running.push(migrate)
    expect(await migrate.exited).toBe(0)
    expect(migrate.output()).toMatch(/postgres none \(up to date\); clickhouse none \(up to date\)/)
  })
})
