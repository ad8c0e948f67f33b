// Customer webhooks under the egress policy: a webhook URL the policy refuses is never requested;
// its delivery is rejected for good, with the refusal as its error, logged and counted. An
// allowlisted receiver still gets its notices.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { egressConfigSchema } from '../../src/egress/index.ts'
import { createLogger } from '../../src/log.ts'
import { queueCustomerNotification } from '../../src/notify/index.ts'
import { type StandIn, startStandIn } from '../egress/standins.ts'
import { startTestSteward, type TestSteward } from '../helpers/app.ts'
import { incidentsOf, testIncidentsConfig, waitFor } from './support.ts'

let s: TestSteward
let allowed: StandIn
let internal: StandIn
const logged: Record<string, unknown>[] = []

beforeAll(async () => {
  allowed = await startStandIn('127.0.0.1')
  internal = await startStandIn('127.0.0.1')
  s = await startTestSteward({
    log: createLogger('warn', {}, (line) => logged.push(JSON.parse(line))),
    file: {
      incidents: testIncidentsConfig(),
      egress: egressConfigSchema.parse({ allowlist: [`127.0.0.1:${allowed.port}`] }),
    },
  })
  for (const [id, url] of [
    ['initech', `${internal.base}/hook`],
    ['hooli', `${allowed.base}/hook`],
  ] as const) {
    const res = await s.api('POST', '/v1/customers', {
      id,
      name: id,
      webhookUrl: url,
      webhookSecret: 's'.repeat(24),
    })
    expect(res.status).toBe(201)
  }
})
afterAll(async () => {
  await s?.stop()
  await allowed?.close()
  await internal?.close()
})

async function deliveryOf(customerId: string) {
  const { rows } = await s.deps.pool.query(
    `SELECT d.status, d.attempts, d.last_error FROM incident_deliveries d
     JOIN customer_notifications n ON n.id = d.notification_id WHERE n.customer_id = $1`,
    [customerId],
  )
  return rows[0] as { status: string; attempts: number; last_error: string | null } | undefined
}

describe('customer webhooks', () => {
  it('never requests a refused webhook URL: the delivery is rejected with the refusal', async () => {
    for (const customerId of ['initech', 'hooli'])
      await queueCustomerNotification(s.deps.pool, {
        customerId,
        kind: 'sla.credit_issued',
        dedupKey: 'credit:2026-01',
        payload: { amount: '1.00' },
      })
    await incidentsOf(s).deliver()
    const refused = await waitFor(async () => {
      const d = await deliveryOf('initech')
      return d?.status !== 'pending' && d
    }, 'the refused delivery to settle')
    expect(refused).toMatchObject({ status: 'rejected', attempts: 1 })
    expect(refused.last_error).toBe(`egress_refused: ${internal.base} is a loopback address`)
    expect(internal.seen).toEqual([])
    expect(logged).toContainEqual(
      expect.objectContaining({
        level: 'warn',
        msg: 'egress refused',
        address: '127.0.0.1',
        reason: 'loopback',
      }),
    )
    expect(logged).toContainEqual(
      expect.objectContaining({
        level: 'error',
        msg: 'delivery refused by the egress policy',
        channel: 'webhook',
      }),
    )

    const delivered = await waitFor(async () => {
      const d = await deliveryOf('hooli')
      return d?.status === 'delivered' && d
    }, 'the allowlisted delivery')
    expect(delivered.attempts).toBe(1)
    expect(allowed.seen.map((r) => r.headers['x-steward-event'])).toEqual(['sla.credit_issued'])
  })

  it('counts the refusal on /metrics', async () => {
    const text = await (await s.api('GET', '/metrics')).text()
    expect(text).toMatch(/steward_webhook_deliveries_total\{outcome="refused"\} 1/)
    expect(text).toMatch(/steward_webhook_deliveries_total\{outcome="delivered"\} 1/)
  })
})
