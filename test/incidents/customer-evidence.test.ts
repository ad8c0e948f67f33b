// Who is not heard by the paging rules: probes and job attempts a customer token sent (source
// 'customer' in ClickHouse) are that customer's evidence, not platform facts, so they never open
// an incident, page PagerDuty or notify other customers. The same rows said by Steward or the
// operator do.
import { randomUUID } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { ClickHouseHandle } from '../../src/db/clickhouse.ts'
import { migrate } from '../../src/db/migrate.ts'
import type { Pool } from '../../src/db/postgres.ts'
import { runRules } from '../../src/incidents/rules.ts'
import { type EventSource, TelemetryEvent, type TelemetryEventInput, toRow } from '../../src/ingest/index.ts'
import { getQueueStats } from '../../src/orchestrator/index.ts'
import { createTestPool, openTestClickHouse, quietLog } from '../helpers/db.ts'
import { testIncidentsConfig } from './support.ts'

let pool: Pool
let ch: ClickHouseHandle
beforeAll(async () => {
  ;({ pool } = await createTestPool())
  ch = await openTestClickHouse()
  await migrate({ pool, clickhouse: ch.client, log: quietLog })
})
afterAll(async () => {
  await pool?.end()
  await ch?.close()
})

const rules = testIncidentsConfig({
  rules: { successRate: { enabled: false }, dlqGrowth: { enabled: false } },
}).rules

async function insertAs(source: EventSource, events: Omit<TelemetryEventInput, 'eventId'>[]) {
  await ch.client.insert({
    table: 'events',
    values: events.map((e) => toRow(TelemetryEvent.parse({ eventId: randomUUID(), ...e }), source)),
    format: 'JSONEachRow',
    clickhouse_settings: { insert_deduplicate: 1, insert_deduplication_token: randomUUID() },
  })
}

const firing = async (now: Date, rule: string) =>
  (await runRules({ pool, clickhouse: ch.client, queueStats: () => getQueueStats(pool) }, rules, now))
    .filter((r) => r.rule === rule)
    .flatMap((r) => {
      expect(r, r.error).toMatchObject({ ok: true })
      return r.findings.map((f) => f.scope)
    })

describe('the paging rules ignore what a customer token said', () => {
  it('failed probes sent by a customer open nothing; the same probes from the operator do', async () => {
    const now = new Date(Date.UTC(2026, 2, 4, 12, 0))
    const probes = (target: string) =>
      [200, 140, 80, 20].map((s) => ({
        type: 'probe' as const,
        customerId: 'acme',
        target,
        ok: false,
        latencyMs: 30,
        ts: new Date(now.getTime() - s * 1000).toISOString(),
      }))
    await insertAs('customer', probes('forged'))
    await insertAs('operator', probes('checked'))
    expect(await firing(now, 'probe_failures')).toEqual(['probe:checked'])
  })

  it('failing job attempts sent by a customer do not trip the worker-error page', async () => {
    const now = new Date(Date.UTC(2026, 2, 5, 12, 0))
    const attempts = (pool: string) =>
      Array.from({ length: 30 }, (_, i) => ({
        type: 'job' as const,
        customerId: 'acme',
        runId: 'r',
        jobId: `${pool}-${i}`,
        stepKey: 's',
        kind: 'simulate',
        pool,
        attempt: 1,
        action: 'failed' as const,
        errorClass: 'transient' as const,
        ts: new Date(now.getTime() - 1000 - i * 1000).toISOString(),
      }))
    await insertAs('customer', attempts('default'))
    await insertAs('steward', attempts('gpu'))
    expect(await firing(now, 'worker_error_rate')).toEqual(['pool:gpu'])
  })
})
