// Customer notices through the delivery outbox: each affected customer's webhook gets the incident's
// notices, signed with its secret; other modules' notices go out the same way, retried while the
// receiver fails; deliveries and open incidents are on /metrics. Refused webhook URLs:
// test/incidents/webhook-egress.test.ts.
import { createHmac } from 'node:crypto'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { describe, expect, it } from 'vitest'
import { queueCustomerNotification } from '../../src/notify/index.ts'
import { CUSTOMER_SECRET, type Received, useIncidentScene } from './routes/steward.ts'
import { waitFor } from './support.ts'

const scene = useIncidentScene()

const signature = (r: Received) =>
  `v1=${createHmac('sha256', CUSTOMER_SECRET)
    .update(`${String(r.headers['x-steward-timestamp'])}.${r.body}`)
    .digest('hex')}`

describe('what works', () => {
  it('sends each affected customer an "investigating" notice, signed with its webhook secret', async () => {
    const { received, acmeIncident, globexIncident } = scene
    const got = await waitFor(
      async () => received.find((r) => r.body.includes('incident.investigating')),
      'notice',
    )
    const ts = String(got.headers['x-steward-timestamp'])
    const expected = `v1=${createHmac('sha256', CUSTOMER_SECRET).update(`${ts}.${got.body}`).digest('hex')}`
    expect(got.headers['x-steward-signature']).toBe(expected)
    const body = JSON.parse(got.body) as { customerId: string; payload: { incidentId: string } }
    expect(body).toMatchObject({ customerId: 'acme', payload: { incidentId: acmeIncident } })
    // Globex has no webhook: its notice is recorded as skipped, never sent to acme's.
    expect(received.every((r) => !r.body.includes(globexIncident))).toBe(true)
  })

  it('sends a signed "resolved" notice when the incident resolves', async () => {
    const { s, received, acmeIncident } = scene
    expect((await s.api('POST', `/v1/incidents/${acmeIncident}/resolve`)).status).toBe(200)
    const got = await waitFor(
      async () => received.find((r) => r.body.includes('incident.resolved')),
      'resolved notice',
    )
    expect(got.headers['x-steward-signature']).toBe(signature(got))
    expect(got.headers['x-steward-event']).toBe('incident.resolved')
    expect(JSON.parse(got.body)).toMatchObject({
      kind: 'incident.resolved',
      customerId: 'acme',
      payload: { incidentId: acmeIncident, status: 'resolved', resolvedAt: expect.any(String) },
    })
  })

  it("delivers other modules' notices through the same outbox, retrying a failing webhook", async () => {
    const { s } = scene
    const seen: Received[] = []
    const flaky = createServer((req, res) => {
      const chunks: Buffer[] = []
      req.on('data', (c: Buffer) => chunks.push(c))
      req.on('end', () => {
        seen.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') })
        res.writeHead(seen.length <= 2 ? 503 : 200).end()
      })
    })
    await new Promise<void>((r) => flaky.listen(0, '127.0.0.1', () => r()))
    try {
      const webhookUrl = `http://127.0.0.1:${(flaky.address() as AddressInfo).port}/`
      expect(
        (
          await s.api('POST', '/v1/customers', {
            id: 'initech',
            name: 'Initech',
            webhookUrl,
            webhookSecret: 's'.repeat(24),
          })
        ).status,
      ).toBe(201)
      await queueCustomerNotification(s.deps.pool, {
        customerId: 'initech',
        kind: 'sla.credit_issued',
        dedupKey: 'credit:2026-01',
        payload: { amount: '12.00' },
      })
      await waitFor(async () => seen.length >= 3, 'three attempts')
      await new Promise((r) => setTimeout(r, 300))
      expect(seen).toHaveLength(3)
      expect(new Set(seen.map((r) => r.headers['x-steward-delivery'])).size).toBe(1)
      expect(JSON.parse(seen[2]!.body)).toMatchObject({
        kind: 'sla.credit_issued',
        customerId: 'initech',
        payload: { amount: '12.00' },
      })
      // Signed with the customer's secret over "<timestamp>.<body>".
      const h = seen[0]!.headers
      const mac = createHmac('sha256', 's'.repeat(24)).update(`${h['x-steward-timestamp']}.${seen[0]!.body}`)
      expect(h['x-steward-signature']).toBe(`v1=${mac.digest('hex')}`)

      // A webhook stored before secrets were required is never sent unsigned: the notice is skipped.
      await s.deps.pool.query("UPDATE customers SET webhook_secret = NULL WHERE id = 'initech'")
      await queueCustomerNotification(s.deps.pool, {
        customerId: 'initech',
        kind: 'sla.credit_issued',
        dedupKey: 'credit:2026-02',
        payload: { amount: '3.00' },
      })
      const skipped = async () =>
        (
          await s.deps.pool.query<{ status: string; last_error: string }>(
            `SELECT d.status, d.last_error FROM incident_deliveries d
             JOIN customer_notifications n ON n.id = d.notification_id WHERE n.dedup_key = 'credit:2026-02'`,
          )
        ).rows[0]
      await waitFor(async () => (await skipped())?.status === 'skipped', 'the unsigned notice skipped')
      expect((await skipped())?.last_error).toMatch(/no signing secret/)
      expect(seen).toHaveLength(3)
    } finally {
      flaky.close()
    }
  })

  it('exposes open incidents by severity on /metrics', async () => {
    const text = await (await scene.s.api('GET', '/metrics')).text()
    expect(text).toMatch(/steward_incidents_open\{severity="critical"\} 1/)
    expect(text).toMatch(/steward_webhook_deliveries_total\{outcome="delivered"\} [3-9]/)
  })
})
