// Runs `steward` CLI commands as child processes, the way operators and CI do.
import { type ChildProcess, spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { freePort } from '../../src/db/postgres.ts'

export const stewardBin = fileURLToPath(new URL('../../bin/steward.js', import.meta.url))

export interface StewardProcess {
  child: ChildProcess
  output(): string
  /** Resolves with the exit code (or the signal name). */
  exited: Promise<number | string>
}

/** Spawns `steward ...args`. `env` is added to a copy of this environment without DATABASE_URL. */
export function spawnSteward(args: string[], env: Record<string, string | undefined>): StewardProcess {
  const base = { ...process.env }
  delete base.DATABASE_URL
  delete base.CLICKHOUSE_URL
  const child = spawn(process.execPath, [stewardBin, ...args], {
    env: { ...base, LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let out = ''
  child.stdout?.on('data', (d) => {
    out += d
  })
  child.stderr?.on('data', (d) => {
    out += d
  })
  const exited = new Promise<number | string>((resolve) =>
    child.on('exit', (code, signal) => resolve(code ?? signal ?? 'unknown')),
  )
  return { child, output: () => out, exited }
}

/** Polls `url` until it answers `status` (default 200) or `timeoutMs` passes. */
export async function waitForStatus(url: string, status = 200, timeoutMs = 60_000): Promise<Response> {
  const deadline = Date.now() + timeoutMs
  let last = 'no answer'
  while (Date.now() < deadline) {
    try {
      const res = await fetch(url)
      if (res.status === status) return res
      last = `${res.status} ${await res.text()}`
    } catch (err) {
      last = (err as Error).message
    }
    await new Promise((r) => setTimeout(r, 200))
  }
  throw new Error(`${url} did not answer ${status} within ${timeoutMs} ms (last: ${last})`)
}

/**
 * Starts `steward serve` on a free loopback port with `--workers <workers>` and waits until
 * /readyz answers 200 (failing with the process's output if it does not within 90 s).
 */
export async function serveSteward(
  env: Record<string, string | undefined>,
  workers = 0,
): Promise<{ proc: StewardProcess; url: string }> {
  const port = await freePort()
  const proc = spawnSteward(['serve', '--port', String(port), '--workers', String(workers)], {
    HOST: '127.0.0.1',
    ...env,
  })
  const url = `http://127.0.0.1:${port}`
  await waitForStatus(`${url}/readyz`, 200, 90_000).catch((err) => {
    proc.child.kill('SIGKILL')
    throw new Error(`${(err as Error).message}\n--- output ---\n${proc.output()}`)
  })
  return { proc, url }
}
