// The load generator of the HTTP benchmarks, run as a process of its own (`bench/_load.ts` spawns
// it): it must never share an event loop with the server it measures, or the server's figures
// include the generator's own work and the generator's latencies include the server's pauses.
//
// Reads one JSON spec on stdin (bodies can be megabytes, too big for argv), runs autocannon, writes
// one JSON line on stdout: requests, seconds, requests/s, latency p50/p99/max (ms), non-2xx, errors.
// With `bodies` each request sends the next body in turn (each once when `amount` equals their count).
// @ts-expect-error autocannon ships no type declarations
import autocannon from 'autocannon'
import type { LoadSpec } from './_load.ts'

let input = ''
for await (const chunk of process.stdin) input += chunk
const spec = JSON.parse(input) as LoadSpec
let next = 0
const bodies: (string | Buffer)[] | undefined =
  spec.bodies ?? spec.binaryBodies?.map((b) => Buffer.from(b, 'base64'))
// autocannon ends a run of `amount` requests on its next 1-second tick, so its `duration` is a
// whole second late for short runs: the time is measured here, to the last response.
const started = performance.now()
let lastResponse = started
const options = {
  url: spec.url,
  method: spec.method,
  headers: spec.headers,
  body: spec.body,
  connections: spec.connections,
  ...(spec.amount ? { amount: spec.amount } : { duration: spec.duration ?? 5 }),
  ...(bodies?.length
    ? {
        requests: [
          {
            method: spec.method,
            setupRequest: (req: object) => ({ ...req, body: bodies[next++ % bodies.length] }),
          },
        ],
      }
    : {}),
}
/** The parts of autocannon's result read here. */
interface Result {
  duration: number
  requests: { total: number }
  latency: { p50: number; p99: number; max: number }
  non2xx: number
  errors: number
  timeouts: number
}
const result = await new Promise<Result>((resolve, reject) => {
  const instance = autocannon(options, (err: Error | null, r: Result) => (err ? reject(err) : resolve(r)))
  instance.on('response', () => {
    lastResponse = performance.now()
  })
})
const seconds = spec.amount ? (lastResponse - started) / 1000 : result.duration
process.stdout.write(
  `${JSON.stringify({
    requests: result.requests.total,
    seconds,
    requestsPerS: Math.round((result.requests.total / seconds) * 10) / 10,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    maxMs: result.latency.max,
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
  })}\n`,
)
