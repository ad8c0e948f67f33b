// The Steward the incidents route tests call: customers acme (with a signed webhook to a receiver
// on loopback, allowlisted) and globex (none), a customer token of each, and one open
// success-rate incident of each, from half of acme's and three quarters of globex's runs failing.
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, expect } from 'vitest'
import type { TestSteward } from '../../helpers/app.ts'
import {
  evaluateAt,
  insertEvents,
  loopbackWebhooks,
  runs,
  startIncidentSteward,
  testEpoch,
} from '../support.ts'

export interface Received {
  headers: Record<string, string | string[] | undefined>
  body: string
}

export interface IncidentScene {
  s: TestSteward
  /** What acme's webhook received, in order. */
  received: Received[]
  tokens: { acme: string; globex: string }
  acmeIncident: string
  globexIncident: string
  /** The minute of the evaluation that opened both incidents. */
  t0: Date
  stop(): Promise<void>
}

export const CUSTOMER_SECRET = 'acme-webhook-secret-0123456789'

async function startIncidentScene(): Promise<IncidentScene> {
  const t0 = testEpoch()
  const received: Received[] = []
  const receiver: Server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      received.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') })
      res.writeHead(204).end()
    })
  })
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', () => r()))
  const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`
  const s = await startIncidentSteward(undefined, {}, loopbackWebhooks())
  expect(
    (
      await s.api('POST', '/v1/customers', {
        id: 'acme',
        name: 'Acme',
        webhookUrl: url,
        webhookSecret: CUSTOMER_SECRET,
      })
    ).status,
  ).toBe(201)
  expect((await s.api('POST', '/v1/customers', { id: 'globex', name: 'Globex' })).status).toBe(201)
  const token = async (id: string) =>
    ((await (await s.api('POST', `/v1/customers/${id}/tokens`, {})).json()) as { token: string }).token
  const tokens = { acme: await token('acme'), globex: await token('globex') }
  await insertEvents(s.deps.clickhouse!, [
    ...runs('acme', t0, 40, 20, 4 * 60_000),
    ...runs('globex', t0, 40, 30, 4 * 60_000),
  ])
  await evaluateAt(s, t0)
  const list = (await (await s.api('GET', '/v1/incidents')).json()) as {
    items: { id: string; scope: string }[]
  }
  return {
    s,
    received,
    tokens,
    acmeIncident: list.items.find((i) => i.scope === 'customer:acme')!.id,
    globexIncident: list.items.find((i) => i.scope === 'customer:globex')!.id,
    t0,
    async stop() {
      await s.stop()
      receiver.close()
    },
  }
}

/**
 * The scene of a test file: started before its tests (then `setup` runs), stopped after them. Its
 * fields are filled in by the time the tests run.
 */
export function useIncidentScene(setup?: (scene: IncidentScene) => Promise<void>): IncidentScene {
  const scene = {} as IncidentScene
  beforeAll(async () => {
    Object.assign(scene, await startIncidentScene())
    await setup?.(scene)
  })
  afterAll(async () => {
    await scene.stop?.()
  })
  return scene
}

/** GET /v1/incidents/{id} (as the admin, or with `token`). */
export const getIncident = async (s: TestSteward, id: string, token?: string) =>
  (await s.api('GET', `/v1/incidents/${id}`, undefined, token)).json() as Promise<Record<string, unknown>>
