// Shared by the orchestrator tests: fast timings, and waiting for a run to reach a state.
import { afterAll, beforeAll, expect } from 'vitest'
import type { Pool } from '../../src/db/postgres.ts'
import { type OrchestratorConfig, orchestratorConfigSchema } from '../../src/orchestrator/index.ts'
import type { TestSteward } from '../helpers/app.ts'
import { createTestPool } from '../helpers/db.ts'
import { until } from '../helpers/until.ts'

/** Orchestrator settings with leases, polls and backoffs in milliseconds. */
export function fastConfig(overrides: Record<string, unknown> = {}): OrchestratorConfig {
  return orchestratorConfigSchema.parse({
    workers: 1,
    concurrency: 4,
    // Fenced at 1.5 s: a loaded machine may delay a renewal by a few heartbeats.
    leaseMs: 2_000,
    heartbeatMs: 250,
    pollMs: 200,
    reclaimEveryMs: 200,
    workerLostAfterMs: 2_000,
    shutdownGraceMs: 2_000,
    retry: { maxAttempts: 4, backoffMs: 20, maxBackoffMs: 1_000 },
    ...overrides,
  })
}

/**
 * A fresh migrated database with the customer `acme`, for the tests of the calling file: opened
 * before them (handed to `opened`), closed after them.
 */
export function acmeDatabase(opened: (pool: Pool) => void): void {
  let pool: Pool | undefined
  beforeAll(async () => {
    ;({ pool } = await createTestPool())
    await pool.query(`INSERT INTO customers (id, name) VALUES ('acme', 'Acme')`)
    opened(pool)
  })
  afterAll(async () => {
    await pool?.end()
  })
}

/** A promise and its resolve, for a handler and its test to meet (Promise.withResolvers is Node 22+). */
export function deferred<T = void>() {
  let resolve!: (v: T) => void
  const promise = new Promise<T>((r) => (resolve = r))
  return { promise, resolve }
}

export interface RunBody {
  customerId?: string
  projectId?: string
  type?: string
  priority?: number
  idempotencyKey?: string
  steps: Record<string, unknown>[]
}

/** A run of `acme` as createRun takes it (every field given, as validation leaves it). */
export const acmeRun = (steps: { key: string; kind: string; input?: unknown }[]) => ({
  customerId: 'acme',
  projectId: 'web',
  type: 'build',
  priority: 0,
  steps,
})

export const run = (steps: Record<string, unknown>[], extra: Partial<RunBody> = {}): RunBody => ({
  customerId: 'acme',
  projectId: 'web',
  type: 'build',
  steps,
  ...extra,
})

export async function submit(s: TestSteward, body: unknown, token?: string): Promise<string> {
  const res = await s.api('POST', '/v1/runs', body, token)
  const json = (await res.json()) as { id: string; detail?: string }
  expect(res.status, JSON.stringify(json)).toBe(201)
  return json.id
}

// biome-ignore lint/suspicious/noExplicitAny: test views of JSON bodies
export type Json = any

export async function getRun(s: TestSteward, id: string, token?: string): Promise<Json> {
  const res = await s.api('GET', `/v1/runs/${id}`, undefined, token)
  expect(res.status).toBe(200)
  return res.json()
}

/** Polls GET /v1/runs/:id until its status is one of `statuses` (or `timeoutMs` passes). */
export async function waitForRun(
  s: TestSteward,
  id: string,
  statuses: string[] = ['succeeded', 'failed', 'cancelled'],
  timeoutMs = 20_000,
): Promise<Json> {
  const until = Date.now() + timeoutMs
  for (;;) {
    const r = await getRun(s, id)
    if (statuses.includes(r.status)) return r
    if (Date.now() > until)
      throw new Error(`run ${id} still ${r.status} after ${timeoutMs} ms: ${JSON.stringify(r.steps)}`)
    await new Promise((res) => setTimeout(res, 50))
  }
}

export const step = (r: Json, key: string): Json => r.steps.find((s: Json) => s.key === key)

/** How many of these runs have succeeded. */
export async function succeededCount(pool: Pool, ids: string[]): Promise<number> {
  const { rows } = await pool.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM runs WHERE id = ANY ($1) AND status = 'succeeded'`,
    [ids],
  )
  return rows[0]!.n
}

/** Waits until every one of these runs has succeeded. */
export const allSucceeded = (pool: Pool, ids: string[], what = `${ids.length} runs succeeded`) =>
  until(
    () => succeededCount(pool, ids),
    (n) => n === ids.length,
    what,
  )
