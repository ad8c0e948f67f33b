// `npm run bench -- api [--quick] [--seconds=S] [--connections=C] [--rounds=R]`: `POST /v1/runs`
// over HTTP against the same server's `GET /healthz` (the limit of the HTTP stack: no body, no
// database), in the same run, at the same concurrency.
//
// The server is a whole Steward (`startSteward`: PostgreSQL, chDB, the relay, 2 in-process workers
// that run the created noop runs) in this process; the load comes from autocannon in a child
// process (bench/_load.ts), so the server's event loop does nothing else. Rounds alternate the
// two targets; figures are the medians over rounds. Prints them last as one JSON line.
import { mkdtempSync, rmSync } from 'node:fs'
import { availableParallelism, tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { createLogger } from '../src/log.ts'
import { orchestratorConfigSchema } from '../src/orchestrator/index.ts'
import { loadConfig, startSteward } from '../src/server/index.ts'
import { type LoadResult, loadFromChild } from './_load.ts'

const TOKEN = 'bench-admin-token-0123456789'
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b)
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2
}
const round = (x: number, d = 1) => Math.round(x * 10 ** d) / 10 ** d

export async function run(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv.filter((a) => a !== 'api'),
    options: {
      quick: { type: 'boolean', default: false },
      seconds: { type: 'string' },
      connections: { type: 'string' },
      rounds: { type: 'string' },
    },
    allowPositionals: true,
    strict: false,
  })
  const seconds = Number(values.seconds ?? (values.quick ? 2 : 4))
  const connections = Number(values.connections ?? 10)
  const rounds = Number(values.rounds ?? (values.quick ? 1 : 2))
  const dir = mkdtempSync(join(tmpdir(), 'steward-bench-api-'))
  const log = createLogger('silent')
  const config = loadConfig(
    {
      ...(process.env.DATABASE_URL ? { DATABASE_URL: process.env.DATABASE_URL } : {}),
      STEWARD_DATA_DIR: dir,
      STEWARD_ADMIN_TOKEN: TOKEN,
      PORT: '0',
      HOST: '127.0.0.1',
      LOG_LEVEL: 'silent',
    },
    { orchestrator: orchestratorConfigSchema.parse({ workers: 2 }) },
  )
  const steward = await startSteward({ config, log, scheduler: false })
  const headers = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' }
  const results: { healthz: LoadResult[]; runs: LoadResult[] } = { healthz: [], runs: [] }
  try {
    await fetch(`${steward.url}/v1/customers`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ id: 'bench', name: 'Bench' }),
    })
    const body = JSON.stringify({
      customerId: 'bench',
      projectId: 'bench',
      type: 'bench',
      steps: [{ key: 'x', kind: 'noop', input: {} }],
    })
    process.stdout.write(
      `api: ${rounds} round(s) of ${seconds} s per target, ${connections} connections, ${availableParallelism()} cores\n`,
    )
    // One short untimed pass of each (connections, JIT, statement plans).
    await loadFromChild({ url: `${steward.url}/healthz`, method: 'GET', connections, duration: 1 })
    await loadFromChild({
      url: `${steward.url}/v1/runs`,
      method: 'POST',
      headers,
      body,
      connections,
      duration: 1,
    })
    for (let r = 0; r < rounds; r++) {
      const order = r % 2 === 0 ? (['healthz', 'runs'] as const) : (['runs', 'healthz'] as const)
      for (const target of order) {
        const res =
          target === 'healthz'
            ? await loadFromChild({
                url: `${steward.url}/healthz`,
                method: 'GET',
                connections,
                duration: seconds,
              })
            : await loadFromChild({
                url: `${steward.url}/v1/runs`,
                method: 'POST',
                headers,
                body,
                connections,
                duration: seconds,
              })
        results[target].push(res)
        process.stdout.write(
          `round ${r + 1} ${target.padEnd(7)} ${res.requestsPerS} req/s, p50 ${res.p50Ms} ms, p99 ${res.p99Ms} ms, non-2xx ${res.non2xx}\n`,
        )
      }
    }
  } finally {
    await steward.stop()
    rmSync(dir, { recursive: true, force: true })
  }
  const summary = (xs: LoadResult[]) => ({
    requests_per_s: round(median(xs.map((x) => x.requestsPerS))),
    p50_ms: round(median(xs.map((x) => x.p50Ms))),
    p99_ms: round(median(xs.map((x) => x.p99Ms))),
    non_2xx: xs.reduce((a, x) => a + x.non2xx + x.errors, 0),
  })
  const runs = summary(results.runs)
  const healthz = summary(results.healthz)
  process.stdout.write(
    `${JSON.stringify({
      bench: 'api',
      cores: availableParallelism(),
      connections,
      seconds,
      rounds,
      load_generator: 'autocannon, child process',
      post_runs: runs,
      healthz,
      runs_to_healthz_throughput: round(runs.requests_per_s / healthz.requests_per_s, 3),
      runs_to_healthz_p99: round(runs.p99_ms / healthz.p99_ms, 1),
    })}\n`,
  )
}
