// POST /v1/events — bounded resources at the door (docs/security.md): a hostile body is refused
// without being materialised (the heap of the serving process, a child measured with
// process.memoryUsage(), grows by less than MEMORY_BOUND while it refuses one), and no more than
// `maxConcurrentRequests` bodies are read at once (429 with Retry-After beyond).
import { type ChildProcess, fork } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ADMIN_TOKEN, startTestSteward, type TestSteward } from '../helpers/app.ts'
import { createTestDatabaseUrl } from '../helpers/db.ts'
import { ingestConfig, postEvents, storedIds, uniqueCustomer, workload } from './support.ts'

/** Most the serving process's heap may grow while it refuses one hostile body. */
const MEMORY_BOUND = 32 * 1024 * 1024

describe('a hostile body, read by a serving process whose heap is measured', () => {
  let child: ChildProcess
  let url: string
  const next = <T>() => new Promise<T>((resolve) => child.once('message', (m) => resolve(m as T)))

  beforeAll(async () => {
    child = fork(fileURLToPath(new URL('./memory.child.ts', import.meta.url)), [], {
      execArgv: ['--expose-gc', '--import', 'tsx'],
      env: { ...process.env, DATABASE_URL: await createTestDatabaseUrl(), STEWARD_ADMIN_TOKEN: ADMIN_TOKEN },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    })
    ;({ url } = await next<{ url: string }>())
  })
  afterAll(async () => {
    if (!child || child.exitCode !== null) return
    const exited = new Promise((r) => child.once('exit', r))
    child.send('exit')
    await exited
  })

  /** Sends `body` and returns the answer and how far the child's heap grew meanwhile. */
  async function measured(body: string, contentType: string) {
    const started = next<{ started: boolean }>()
    child.send('start')
    await started
    const res = await fetch(`${url}/v1/events`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': contentType },
      body,
    })
    const problem = (await res.json()) as { detail: string; errors: unknown[] }
    const stopped = next<{ baseline: number; peak: number }>()
    child.send('stop')
    const { baseline, peak } = await stopped
    return { status: res.status, problem, growth: peak - baseline }
  }

  it('refuses 10 MiB of [{},{},…] (3.5 million events) after the first 100 problems', async () => {
    const items = Math.floor((10 * 1024 * 1024 - 2) / 3)
    const body = `[${'{},'.repeat(items - 1)}{}]`
    const r = await measured(body, 'application/json')
    expect(r.status).toBe(400)
    expect(r.problem.errors.length).toBe(100)
    expect(r.problem.detail).toMatch(/not read past event/)
    expect(r.growth).toBeLessThan(MEMORY_BOUND)
  })

  it('refuses 1 million lines of invalid NDJSON after the first 100 problems', async () => {
    const r = await measured('nope\n'.repeat(1_000_000), 'application/x-ndjson')
    expect(r.status).toBe(400)
    expect(r.problem.errors.length).toBe(100)
    expect(r.growth).toBeLessThan(MEMORY_BOUND)
  })
})

describe('concurrent bodies', () => {
  let t: TestSteward
  beforeAll(async () => {
    t = await startTestSteward({
      file: { ingest: ingestConfig({ heartbeatIntervalMs: 0, http: { maxConcurrentRequests: 2 } }) },
    })
  })
  afterAll(async () => {
    await t?.stop()
  })

  /** A request whose body arrives only when `finish` is called; `reading` resolves once Steward reads it. */
  function heldRequest(events: unknown[]) {
    let controller!: ReadableStreamDefaultController<Uint8Array>
    let reading!: () => void
    const started = new Promise<void>((r) => (reading = r))
    const body = new ReadableStream<Uint8Array>(
      {
        start: (c) => {
          controller = c
        },
        pull: () => reading(),
      },
      { highWaterMark: 0 },
    )
    const response = t.fetch(
      new Request('http://steward.test/v1/events', {
        method: 'POST',
        headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
        body,
        duplex: 'half',
      } as RequestInit),
    )
    return {
      started,
      response,
      finish() {
        controller.enqueue(new TextEncoder().encode(JSON.stringify(events)))
        controller.close()
      },
    }
  }

  it('answers 429 with Retry-After beyond maxConcurrentRequests bodies being read, storing nothing of it', async () => {
    const customer = uniqueCustomer('conc')
    const [a, b, c] = [workload(customer, 3), workload(customer, 3), workload(customer, 3)]
    const held = [heldRequest(a), heldRequest(b)]
    await Promise.all(held.map((h) => h.started))
    const refused = await postEvents(t, JSON.stringify(c))
    expect(refused.status).toBe(429)
    expect(refused.headers.get('retry-after')).toBe('1')
    for (const h of held) h.finish()
    expect((await Promise.all(held.map((h) => h.response))).map((r) => r.status)).toEqual([202, 202])
    expect(
      await storedIds(
        t.deps.pool,
        c.map((e) => e.eventId!),
      ),
    ).toBe(0)
    // Once they are read, the next one is.
    expect((await postEvents(t, JSON.stringify(c))).status).toBe(202)
  })
})
