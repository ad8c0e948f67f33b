// Shared test support for the ingest tests: event factories and a fault-injecting ClickHouse client.
import { randomUUID } from 'node:crypto'
import type { z } from 'zod'
import type { ClickHouseClient } from '../../src/db/clickhouse.ts'
import { type IngestConfig, ingestConfigSchema } from '../../src/ingest/config.ts'
import type { NewEvent } from '../../src/ingest/index.ts'

/**
 * Wraps the real client: insert calls numbered [from, to) (1-based) fail. `mode: 'before'` fails
 * without inserting (ClickHouse down: a network error); 'after' inserts and then fails (the
 * acknowledgement lost). `refuse` makes the failure a ClickHouse server exception of that type
 * instead (as the client raises it); `pingFails` makes ping() report ClickHouse unreachable.
 */
export function faultyClickHouse(
  real: ClickHouseClient,
  opts: {
    from: number
    to: number
    mode?: 'before' | 'after'
    refuse?: { type: string; code: string }
    pingFails?: boolean
  },
): ClickHouseClient & { inserts: number } {
  const state = { inserts: 0 }
  const fault = (n: number, what: string) =>
    opts.refuse
      ? Object.assign(new Error(`injected server exception: insert #${n}`), opts.refuse)
      : new Error(`injected fault: insert #${n} ${what}`)
  return new Proxy(real, {
    get(target, prop, receiver) {
      if (prop === 'inserts') return state.inserts
      if (prop === 'ping' && opts.pingFails)
        return async () => ({ success: false, error: new Error('injected: unreachable') })
      if (prop === 'insert') {
        return async (params: Parameters<ClickHouseClient['insert']>[0]) => {
          const n = ++state.inserts
          const faulty = n >= opts.from && n < opts.to
          if (faulty && opts.mode !== 'after') throw fault(n, 'refused')
          const result = await target.insert(params)
          if (faulty) throw fault(n, 'acknowledgement lost')
          return result
        }
      }
      const v = Reflect.get(target, prop, receiver)
      return typeof v === 'function' ? v.bind(target) : v
    },
  }) as ClickHouseClient & { inserts: number }
}

/** A realistic mix of events of one customer: a run with jobs, usage, API requests, heartbeats. */
export function workload(customerId: string, n: number, at = Date.now() - 3_600_000): NewEvent[] {
  const out: NewEvent[] = []
  for (let i = 0; out.length < n; i++) {
    const ts = new Date(at + i * 7_000).toISOString()
    const runId = `run-${i}`
    const base = { customerId, projectId: `proj-${i % 3}`, ts }
    out.push(
      {
        ...base,
        eventId: randomUUID(),
        type: 'run',
        action: i % 4 === 0 ? 'failed' : 'succeeded',
        runId,
        runType: i % 2 ? 'build' : 'review',
        durationMs: 1000 + i,
        errorClass: i % 4 === 0 ? 'transient' : undefined,
      },
      {
        ...base,
        eventId: randomUUID(),
        type: 'job',
        action: 'succeeded',
        runId,
        runType: 'build',
        jobId: `job-${i}`,
        stepKey: 'compile',
        kind: 'simulate',
        pool: i % 2 ? 'gpu' : 'default',
        attempt: 1,
        durationMs: 250 + i,
      },
      {
        ...base,
        eventId: randomUUID(),
        type: 'usage',
        runId,
        model: i % 2 ? 'gpt-x' : 'claude-y',
        inputTokens: 100 + i,
        outputTokens: 10 + i,
      },
      {
        ...base,
        eventId: randomUUID(),
        type: 'api_request',
        route: '/v1/runs',
        method: 'POST',
        status: i % 5 === 0 ? 503 : 201,
        durationMs: 3 + (i % 7),
      },
      {
        ...base,
        eventId: randomUUID(),
        type: 'heartbeat',
        instanceId: 'cp-1',
        component: 'control_plane',
        healthy: i % 6 !== 0,
      },
      {
        ...base,
        eventId: randomUUID(),
        type: 'probe',
        target: 'https://api',
        ok: i % 9 !== 0,
        latencyMs: 12,
      },
    )
  }
  return out.slice(0, n)
}

/** What a customer token may send: `workload`'s probe, usage and API-request events only. */
export function evidence(customerId: string, n: number, at?: number): NewEvent[] {
  const only = new Set(['probe', 'usage', 'api_request'])
  return workload(customerId, n * 3, at)
    .filter((e) => only.has(e.type))
    .slice(0, n)
}

export const uniqueCustomer = (label: string) => `${label}-${randomUUID().slice(0, 8)}`

export async function eventually<T>(
  fn: () => Promise<T>,
  ok: (v: T) => boolean,
  timeoutMs = 20_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const v = await fn()
    if (ok(v)) return v
    if (Date.now() > deadline)
      throw new Error(`condition not met within ${timeoutMs} ms; last value ${JSON.stringify(v)}`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

/** POSTs a raw body (string or bytes, e.g. gzip) to /v1/events of an in-process Steward. */
export function postEvents(
  steward: { fetch(req: Request): Promise<Response> },
  body: string | Uint8Array,
  opts: { token?: string | null; headers?: Record<string, string> } = {},
): Promise<Response> {
  const headers: Record<string, string> = { 'content-type': 'application/json', ...opts.headers }
  if (opts.token !== null) headers.authorization = `Bearer ${opts.token ?? 'test-admin-token-0123456789'}`
  return steward.fetch(new Request('http://steward.test/v1/events', { method: 'POST', headers, body }))
}

/** How many of these eventIds PostgreSQL ever accepted (the dedup record outlives the outbox row). */
export async function storedIds(
  db: { query: (sql: string, p: unknown[]) => Promise<{ rows: { n: number }[] }> },
  ids: string[],
): Promise<number> {
  const { rows } = await db.query(
    'SELECT count(*)::int AS n FROM telemetry_event_ids WHERE event_id = ANY($1)',
    [ids],
  )
  return rows[0]!.n
}

/** An `ingest` config section from a partial one (defaults filled), for startTestSteward's `file`. */
export const ingestConfig = (input: z.input<typeof ingestConfigSchema>): IngestConfig =>
  ingestConfigSchema.parse(input)
