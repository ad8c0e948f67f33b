// Shared set-up of the incidents tests: a Steward whose incidents module pages the local HTTPS
// PagerDuty stand-in, and helpers that write telemetry straight into ClickHouse.
import { randomUUID } from 'node:crypto'
import { expect } from 'vitest'
import type { ClickHouseClient } from '../../src/db/clickhouse.ts'
import { egressConfigSchema } from '../../src/egress/index.ts'
import { incidentsConfigSchema } from '../../src/incidents/config.ts'
import { EVALUATE_JOB, type IncidentsModule } from '../../src/incidents/index.ts'
import type { PagerDutyStandIn } from '../../src/incidents/pagerduty-standin.ts'
import { TelemetryEvent, type TelemetryEventInput, toRow } from '../../src/ingest/index.ts'
import type { FileConfigInput } from '../../src/server/index.ts'
import { startTestSteward, type TestSteward } from '../helpers/app.ts'

export const ROUTING_KEY = 'R0UT1NGKEY0123456789abcdefABCDEF'
export const WEBHOOK_SECRET = 'pd-webhook-secret-for-tests'

/** Incidents settings for tests: fast deliveries, only the rules a test drives. */
export function testIncidentsConfig(over: Record<string, unknown> = {}, caFile?: string) {
  return incidentsConfigSchema.parse({
    resolveAfterMinutes: 5,
    pagerduty: { caFile, webhookSecret: WEBHOOK_SECRET },
    delivery: { pollMs: 50, backoffMs: 40, maxBackoffMs: 200, rateLimitBackoffMs: 100, timeoutMs: 3000 },
    ...over,
    rules: {
      uptime: { enabled: false },
      telemetryLag: { enabled: false },
      queueWithoutWorkers: { enabled: false },
      dlqGrowth: { windowMinutes: 1, threshold: 2 },
      ...(over.rules as object),
    },
  })
}

export async function startIncidentSteward(
  pd?: PagerDutyStandIn,
  over: Record<string, unknown> = {},
  file: FileConfigInput = {},
): Promise<TestSteward> {
  return startTestSteward({
    env: pd ? { PAGERDUTY_ROUTING_KEY: ROUTING_KEY, PAGERDUTY_EVENTS_HOST: pd.host } : {},
    // The burn-rate SLOs come from the plans: these customers' plans promise 99 % of runs.
    file: {
      incidents: testIncidentsConfig(over, pd?.caFile),
      sla: { defaultPlan: { successRateTarget: 99 } },
      ...file,
    },
  })
}

/** Customer webhooks of these tests go to receivers on 127.0.0.1, which the egress policy refuses
 *  unless allowlisted: the tests that register such webhooks allowlist it explicitly. */
export const loopbackWebhooks = (): FileConfigInput => ({
  egress: egressConfigSchema.parse({ allowlist: ['127.0.0.1'] }),
})

export const incidentsOf = (s: TestSteward) =>
  s.modules.find((m) => m.name === 'incidents') as IncidentsModule

/** Runs the scheduled detection job for minute `at` (once per minute, like the scheduler). */
export async function evaluateAt(s: TestSteward, at: Date) {
  const outcome = await s.deps.scheduler.runNow(EVALUATE_JOB, at)
  if (process.env.DEBUG_INC) console.log(at.toISOString(), JSON.stringify(outcome))
  expect(outcome.status).toBe('succeeded')
  return outcome
}

export async function insertEvents(ch: ClickHouseClient, events: Omit<TelemetryEventInput, 'eventId'>[]) {
  const rows = events.map((e) => toRow(TelemetryEvent.parse({ eventId: randomUUID(), ...e })))
  // Every insert into `events` carries a deduplication token (schemas/clickhouse/011_rollup_dedup.sql).
  await ch.insert({
    table: 'events',
    values: rows,
    format: 'JSONEachRow',
    clickhouse_settings: {
      insert_deduplicate: 1,
      insert_deduplication_token: randomUUID(),
      deduplicate_blocks_in_dependent_materialized_views: 1,
    },
  })
}

/** `n` finished runs of `customerId` at `at` minus up to `spreadMs`, the first `failed` of them failed. */
export function runs(customerId: string, at: Date, n: number, failed: number, spreadMs = 60_000) {
  return Array.from({ length: n }, (_, i) => ({
    type: 'run' as const,
    customerId,
    runId: `r-${randomUUID()}`,
    action: i < failed ? ('failed' as const) : ('succeeded' as const),
    ts: new Date(at.getTime() - 1 - Math.floor((i / n) * spreadMs)).toISOString(),
    durationMs: 1000,
    ...(i < failed ? { errorClass: 'transient' as const } : {}),
  }))
}

export const minutes = (base: Date, m: number) => new Date(base.getTime() + m * 60_000)

/** A whole minute some hours in the past, distinct per call, so tests never share windows. */
let slot = 0
export function testEpoch(): Date {
  // Evaluations must move forward in time, as the scheduler's do: each call is a later slot.
  const hoursBack = 60 - 7 * slot++
  return new Date(Math.floor(Date.now() / 60_000) * 60_000 - hoursBack * 3_600_000)
}

export async function waitFor<T>(
  fn: () => Promise<T | undefined | false>,
  what: string,
  timeoutMs = 15_000,
): Promise<T> {
  const until = Date.now() + timeoutMs
  for (;;) {
    const v = await fn()
    if (v) return v
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

export async function deliveriesOf(s: TestSteward, incidentId: string) {
  const { rows } = await s.deps.pool.query<{
    idempotency_key: string
    status: string
    attempts: number
    last_status: number | null
  }>(
    'SELECT idempotency_key, status, attempts, last_status FROM incident_deliveries WHERE incident_id = $1 ORDER BY id',
    [incidentId],
  )
  return rows
}

export async function openIncidents(s: TestSteward, rule: string, scope: string) {
  const { rows } = await s.deps.pool.query<{ id: string; status: string; silenced: boolean; paged: boolean }>(
    'SELECT id, status, silenced, paged FROM incidents WHERE rule = $1 AND scope = $2 ORDER BY opened_at',
    [rule, scope],
  )
  return rows
}
