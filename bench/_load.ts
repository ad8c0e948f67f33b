// Runs HTTP load from a child process (`bench/_loadgen.ts`), so the benchmarks that load a server
// never generate that load inside the server's process. See bench/_loadgen.ts for the spec.
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'

export interface LoadSpec {
  url: string
  method: 'GET' | 'POST'
  headers?: Record<string, string>
  body?: string
  /** Sent in turn, one per request (instead of `body`). */
  bodies?: string[]
  /** Binary bodies (base64, decoded by the generator), sent in turn like `bodies`. */
  binaryBodies?: string[]
  connections: number
  /** Seconds to run (unless `amount` is given). */
  duration?: number
  /** Requests to send in all. */
  amount?: number
}

export interface LoadResult {
  requests: number
  seconds: number
  requestsPerS: number
  p50Ms: number
  p99Ms: number
  maxMs: number
  non2xx: number
  errors: number
}

const generator = fileURLToPath(new URL('./_loadgen.ts', import.meta.url))
const repoRoot = fileURLToPath(new URL('..', import.meta.url))

/** Spawns the load generator, waits for it to finish and returns its figures. */
export function loadFromChild(spec: LoadSpec): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', generator], {
      cwd: repoRoot,
      stdio: ['pipe', 'pipe', 'pipe'],
    })
    let out = ''
    let err = ''
    child.stdout.on('data', (d) => {
      out += d
    })
    child.stderr.on('data', (d) => {
      err += d
    })
    child.on('error', reject)
    child.on('exit', (code) => {
      if (code !== 0) return reject(new Error(`load generator exited ${code}: ${err.trim()}`))
      try {
        resolve(JSON.parse(out.trim().split('\n').at(-1)!) as LoadResult)
      } catch {
        reject(new Error(`load generator printed no result: ${out} ${err}`))
      }
    })
    child.stdin.end(JSON.stringify(spec))
  })
}
