// Recovery estimates (docs/incidents.md, "Recovery estimates"): every incident opens with one — the
// RTO target of the recovery kind config maps its rule to — an operator's update may replace it,
// customers are told it, the timeline records each one, and the report compares it with reality.
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ingestConfigSchema } from '../../src/ingest/config.ts'
import { slaConfigSchema } from '../../src/sla/config.ts'
import { startTestSteward, type TestSteward } from '../helpers/app.ts'
import {
  evaluateAt,
  insertEvents,
  loopbackWebhooks,
  minutes,
  runs,
  testEpoch,
  testIncidentsConfig,
  waitFor,
} from './support.ts'

interface Notice {
  kind: string
  payload: { incidentId: string; estimatedRecoveryAt: string; estimateSource: string; message: string }
}
interface Incident {
  id: string
  status: string
  openedAt: string
  recoveryKind: string
  estimatedRecoveryAt: string
  estimateSource: string
  timeline: { kind: string; message: string }[]
}

let s: TestSteward
let receiver: Server
const notices: Notice[] = []
const t0 = testEpoch()
let incidentId: string

beforeAll(async () => {
  receiver = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      notices.push(JSON.parse(Buffer.concat(chunks).toString('utf8')) as Notice)
      res.writeHead(204).end()
    })
  })
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', () => r()))
  s = await startTestSteward({
    file: {
      // Not the default (run_resume): the estimate must follow the config's mapping and the SLA's target.
      incidents: testIncidentsConfig({ recoveryKinds: { success_rate_burn: 'worker_recovery' } }),
      sla: slaConfigSchema.parse({ rtoTargetsSeconds: { worker_recovery: 77 } }),
      // Telemetry stays in the outbox, where the test reads the recovery event.
      ingest: ingestConfigSchema.parse({ relay: { enabled: false } }),
      // The customer's webhook receiver is on loopback, which the egress policy refuses by default.
      ...loopbackWebhooks(),
    },
  })
  const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`
  expect(
    (
      await s.api('POST', '/v1/customers', {
        id: 'acme',
        name: 'Acme',
        webhookUrl: url,
        webhookSecret: 'x'.repeat(24),
      })
    ).status,
  ).toBe(201)
  await insertEvents(s.deps.clickhouse!, runs('acme', t0, 40, 20, 4 * 60_000))
  await evaluateAt(s, t0)
  const list = (await (await s.api('GET', '/v1/incidents')).json()) as { items: { id: string }[] }
  incidentId = list.items[0]!.id
})
afterAll(async () => {
  await s?.stop()
  receiver?.close()
})

const get = async () => (await (await s.api('GET', `/v1/incidents/${incidentId}`)).json()) as Incident
const inFuture = (m: number) => new Date(Math.ceil(Date.now() / 1000) * 1000 + m * 60_000).toISOString()

describe('what works', () => {
  it('opens with an estimate: opening + the RTO target of the kind config maps the rule to', async () => {
    const i = await get()
    expect(i.recoveryKind).toBe('worker_recovery')
    expect(i.estimateSource).toBe('rto_target')
    expect(Date.parse(i.estimatedRecoveryAt) - Date.parse(i.openedAt)).toBe(77_000)
    expect(i.timeline.filter((t) => t.kind === 'estimate').map((t) => t.message)).toEqual([
      `estimated recovery by ${i.estimatedRecoveryAt} (RTO target of worker_recovery: 77 s)`,
    ])
  })

  it('tells affected customers the estimate in the "investigating" notice', async () => {
    const notice = await waitFor(
      async () => notices.find((n) => n.kind === 'incident.investigating'),
      'notice',
    )
    const i = await get()
    expect(notice.payload).toMatchObject({
      incidentId,
      estimatedRecoveryAt: i.estimatedRecoveryAt,
      estimateSource: 'rto_target',
    })
  })

  it("takes an operator's estimate with an update: on the incident, the timeline and the notice", async () => {
    const estimate = inFuture(45)
    const res = await s.api('POST', `/v1/incidents/${incidentId}/updates`, {
      message: 'Workers are being replaced',
      estimatedRecoveryAt: estimate,
    })
    expect(res.status).toBe(201)
    const i = await get()
    expect(i).toMatchObject({ estimatedRecoveryAt: estimate, estimateSource: 'operator' })
    expect(i.timeline.filter((t) => t.kind === 'estimate').at(-1)!.message).toBe(
      `estimated recovery by ${estimate} (operator)`,
    )
    const notice = await waitFor(
      async () =>
        notices.find(
          (n) => n.kind === 'incident.update' && n.payload.message === 'Workers are being replaced',
        ),
      'update notice',
    )
    expect(notice.payload).toMatchObject({ estimatedRecoveryAt: estimate, estimateSource: 'operator' })
  })

  it('compares the estimates with the actual recovery in the report, and emits the recovery with the mapped kind', async () => {
    // The success rate recovers (an SLO rule resolves as soon as its SLI has): auto-resolves at
    // once, well before the operator's estimate.
    await insertEvents(s.deps.clickhouse!, runs('acme', minutes(t0, 8), 3000, 0, 4 * 60_000))
    await evaluateAt(s, minutes(t0, 8))
    const i = await get()
    expect(i.status).toBe('resolved')
    const report = (await (await s.api('GET', `/v1/incidents/${incidentId}/report`)).json()) as {
      recoveryEstimate: Record<string, unknown> & { estimates: unknown[] }
    }
    const actual = (Date.parse(minutes(t0, 8).toISOString()) - Date.parse(i.openedAt)) / 1000
    const estimated = (Date.parse(i.estimatedRecoveryAt) - Date.parse(i.openedAt)) / 1000
    expect(report.recoveryEstimate).toMatchObject({
      recoveryKind: 'worker_recovery',
      targetSeconds: 77,
      firstEstimateAt: new Date(Date.parse(i.openedAt) + 77_000).toISOString(),
      finalEstimateAt: i.estimatedRecoveryAt,
      actualSeconds: actual,
      estimatedSeconds: estimated,
      differenceSeconds: actual - estimated,
      withinEstimate: true,
    })
    expect(report.recoveryEstimate.estimates).toHaveLength(2)
    const md = await (await s.api('GET', `/v1/incidents/${incidentId}/report?format=markdown`)).text()
    expect(md).toContain('## Recovery estimate')
    expect(md).toContain('- First estimate: ')
    expect(md).toMatch(/earlier than estimated \(within the estimate\)/)

    const { rows } = await s.deps.pool.query<{ body: { recoveryKind: string } }>(
      `SELECT body FROM telemetry_outbox WHERE event_id = $1`,
      [`steward:${incidentId}:recovery:acme`],
    )
    expect(rows.map((r) => r.body.recoveryKind)).toEqual(['worker_recovery'])
  })
})

describe('what is refused', () => {
  it.each([
    ['in the past', new Date(Date.now() - 60_000).toISOString(), 'must be in the future'],
    ['without a time zone', '2099-01-01T10:00:00', 'ISO 8601'],
    ['not a date', 'soon', 'ISO 8601'],
    ['more than a year ahead', new Date(Date.now() + 400 * 86_400_000).toISOString(), 'within a year'],
  ])('refuses an estimate %s, naming the field, and changes nothing', async (_what, value, message) => {
    const other = await openAnother()
    const before = await getById(other)
    const res = await s.api('POST', `/v1/incidents/${other}/updates`, {
      message: 'ETA',
      estimatedRecoveryAt: value,
    })
    expect(res.status).toBe(400)
    const problem = (await res.json()) as { errors: { path: string; message: string }[] }
    expect(problem.errors[0]!.path).toBe('estimatedRecoveryAt')
    expect(problem.errors[0]!.message).toContain(message)
    expect(await getById(other)).toEqual(before)
  })

  it('refuses an estimate for a resolved incident with 409, and changes nothing', async () => {
    const before = await get()
    expect(before.timeline.some((t) => t.message === 'resolved by auto')).toBe(true)
    const res = await s.api('POST', `/v1/incidents/${incidentId}/updates`, {
      message: 'late',
      estimatedRecoveryAt: inFuture(10),
    })
    expect(res.status).toBe(409)
    expect(await get()).toEqual(before)
  })
})

let another: string | undefined
/** A second open incident: globex's failing runs. */
async function openAnother(): Promise<string> {
  if (another) return another
  await s.api('POST', '/v1/customers', { id: 'globex', name: 'Globex' })
  const t1 = minutes(t0, 60)
  await insertEvents(s.deps.clickhouse!, runs('globex', t1, 40, 30, 4 * 60_000))
  await evaluateAt(s, t1)
  const list = (await (await s.api('GET', '/v1/incidents?customerId=globex')).json()) as {
    items: { id: string }[]
  }
  another = list.items[0]!.id
  return another
}
const getById = async (id: string) => (await (await s.api('GET', `/v1/incidents/${id}`)).json()) as Incident
