// The PagerDuty stand-in answers like the Events API v2, and the sender classifies every answer the
// way the outbox needs (deliver, reject, retry), through the real @pagerduty/pdjs over HTTPS.
import https from 'node:https'
import { trigger } from '@pagerduty/pdjs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildFollowUp, buildTrigger, sendPagerDutyEvent } from '../../src/incidents/pagerduty.ts'
import { type PagerDutyStandIn, startPagerDutyStandIn } from '../../src/incidents/pagerduty-standin.ts'
import { ROUTING_KEY } from './support.ts'

let pd: PagerDutyStandIn
beforeAll(async () => {
  pd = await startPagerDutyStandIn()
})
afterAll(async () => {
  await pd?.close()
})

const opts = () => ({ host: pd.host, routingKey: ROUTING_KEY, ca: pd.ca, timeoutMs: 3000 })
const page = (overrides: Partial<Parameters<typeof buildTrigger>[0]> = {}) =>
  buildTrigger({
    incidentId: 'inc_test',
    summary: 'Runs failing',
    source: 'steward',
    severity: 'critical',
    rule: 'success_rate_burn',
    scope: 'customer:acme',
    openedAt: new Date(),
    customers: ['acme'],
    details: {},
    links: [{ href: 'https://steward.example/v1/incidents/inc_test', text: 'incident' }],
    ...overrides,
  })

describe('the stand-in', () => {
  it('accepts a valid trigger from pdjs with 202 and echoes the dedup_key', async () => {
    const agent = new https.Agent({ ca: pd.ca })
    const res = await trigger({
      server: pd.host,
      data: {
        routing_key: ROUTING_KEY,
        dedup_key: 'k1',
        payload: { summary: 's', source: 'x', severity: 'info' },
      },
      ...({ agent } as object),
    } as Parameters<typeof trigger>[0])
    expect(res.status).toBe(202)
    expect(res.data).toEqual({ status: 'success', message: 'Event processed', dedup_key: 'k1' })
    agent.destroy()
  })

  it('refuses events missing routing_key, summary, severity or source with 400 naming each', async () => {
    const cases: [Record<string, unknown>, string, RegExp][] = [
      [{}, '', /routing_key/],
      [{ payload: { source: 's', severity: 'error' } }, ROUTING_KEY, /summary/],
      [{ payload: { summary: 's', source: 's' } }, ROUTING_KEY, /severity/],
      [{ payload: { summary: 's', severity: 'error' } }, ROUTING_KEY, /source/],
    ]
    for (const [change, routingKey, message] of cases) {
      const event = { ...page(), ...change }
      const r = await sendPagerDutyEvent(event as never, { ...opts(), routingKey })
      expect(r).toMatchObject({ outcome: 'rejected', status: 400 })
      expect('error' in r && r.error).toMatch(message)
    }
    const noKey = await sendPagerDutyEvent({ event_action: 'resolve' } as never, opts())
    expect(noKey).toMatchObject({ outcome: 'rejected', status: 400 })
  })

  it('keeps pages within the field limits', () => {
    const e = page({ summary: 'x'.repeat(5000), customers: Array.from({ length: 500 }, (_, i) => `c${i}`) })
    expect(e.payload!.summary.length).toBe(1024)
    expect((e.payload!.custom_details as { affected_customers: string[] }).affected_customers).toHaveLength(
      100,
    )
    expect(JSON.stringify(e).length).toBeLessThan(512 * 1024)
  })
})

describe('the sender', () => {
  it('reports 429 as rate limited without letting pdjs re-send on its own', async () => {
    const before = pd.received.length
    pd.failNext(1, 429)
    expect(await sendPagerDutyEvent(page(), opts())).toMatchObject({ outcome: 'rate_limited', status: 429 })
    await new Promise((r) => setTimeout(r, 100))
    expect(pd.received.length - before).toBe(1)
  })

  it('retries a 5xx even when its body is not JSON, and a refused connection', async () => {
    pd.failNext(1, 502, '<html>Bad gateway</html>')
    expect(await sendPagerDutyEvent(page(), opts())).toMatchObject({ outcome: 'retryable', status: 502 })
    await pd.stop()
    expect(await sendPagerDutyEvent(buildFollowUp('resolve', 'inc_test'), opts())).toMatchObject({
      outcome: 'retryable',
    })
    await pd.start()
    expect(await sendPagerDutyEvent(buildFollowUp('resolve', 'inc_test'), opts())).toMatchObject({
      outcome: 'delivered',
      status: 202,
    })
  })

  it('does not trust a server whose certificate is not signed by the configured CA', async () => {
    const r = await sendPagerDutyEvent(page(), { ...opts(), ca: undefined })
    expect(r.outcome).toBe('retryable')
    expect('error' in r && r.error).toMatch(/certificate/)
  })
})
