// The public status page, its JSON and its Atom feed, over a factory with a history
// (test/helpers/status-scene.ts): components from live signals, open incidents with their
// estimates, 90 days of uptime, past incidents with their post-incident summary — and nothing
// of any customer.
import { createServer } from 'node:net'
import { ClickHouseLogLevel, createClient } from '@clickhouse/client'
import { DOMParser, type Element } from '@xmldom/xmldom'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { StatusModule, StatusUses } from '../../src/status/index.ts'
import { renderStatusPage } from '../../src/status/page.ts'
import type { StatusSnapshot } from '../../src/status/schemas.ts'
import { buildSnapshot } from '../../src/status/snapshot.ts'
import { startTestSteward, type TestSteward } from '../helpers/app.ts'
import { SCENE_CONFIG, SCENE_CUSTOMERS, type StatusScene, seedStatusScene } from '../helpers/status-scene.ts'

let s: TestSteward
let scene: StatusScene
const ATOM = 'http://www.w3.org/2005/Atom'

beforeAll(async () => {
  s = await startTestSteward({ file: SCENE_CONFIG })
  scene = await seedStatusScene(s)
})
afterAll(async () => {
  await s?.stop()
})

const statusModule = () => s.modules.find((m) => m.name === 'status') as StatusModule
async function snapshot(): Promise<StatusSnapshot> {
  const res = await s.api('GET', '/v1/status', undefined, null)
  expect(res.status).toBe(200)
  return (await res.json()) as StatusSnapshot
}
async function text(path: string) {
  const res = await s.api('GET', path, undefined, null)
  expect(res.status).toBe(200)
  return { body: await res.text(), type: res.headers.get('content-type'), res }
}

describe('GET /v1/status', () => {
  it('answers without a token, with every component and its state from live signals', async () => {
    const snap = await snapshot()
    const byId = new Map(snap.components.map((c) => [c.id, c]))
    expect([...byId.keys()]).toEqual([
      'api',
      'orchestrator',
      'pool:default',
      'pool:gpu',
      'telemetry',
      'paging',
    ])
    // The failing probe's critical incident takes the API out; gpu has waiting jobs and no worker.
    expect(byId.get('api')!.state).toBe('outage')
    expect(byId.get('pool:gpu')!.state).toBe('outage')
    expect(byId.get('pool:gpu')!.detail).toMatch(/no worker is running/)
    expect(byId.get('pool:default')!.state).toBe('operational')
    expect(byId.get('orchestrator')!.state).toBe('degraded')
    expect(byId.get('telemetry')!.state).toBe('operational')
    // No PagerDuty routing key in this test: nobody is paged, and the page says so.
    expect(byId.get('paging')).toMatchObject({
      state: 'degraded',
      detail: expect.stringMatching(/not configured/),
    })
    expect(snap.status).toBe('outage')
    expect(snap.summary).toBe('Some systems are unavailable')
  })

  it('shows open platform incidents with the latest update and the estimated recovery', async () => {
    const { open } = (await snapshot()).incidents
    expect(open.map((i) => i.id).sort()).toEqual([scene.probeIncidentId, scene.poolIncidentId].sort())
    const probe = open.find((i) => i.id === scene.probeIncidentId)!
    expect(probe).toMatchObject({
      componentIds: ['api'],
      impact: 'outage',
      status: 'investigating',
      estimatedRecoveryAt: scene.estimate,
      estimateSource: 'operator',
    })
    expect(probe.latestUpdate!.message).toMatch(/^Failover to the standby control plane is under way/)
    // Without an operator's estimate: opening + the RTO target of worker_recovery (120 s).
    const pool = open.find((i) => i.id === scene.poolIncidentId)!
    expect(pool.estimateSource).toBe('rto_target')
    expect(Date.parse(pool.estimatedRecoveryAt) - Date.parse(pool.startedAt)).toBe(120_000)
    expect(pool.componentIds).toEqual(['pool:gpu'])
    // The customer's own incident is told to that customer, not to the world.
    expect(open.some((i) => i.id === scene.customerIncidentId)).toBe(false)
  })

  it('has 90 days of uptime: no data before the first start, then each day against the target', async () => {
    const { uptime } = await snapshot()
    expect(uptime.history).toHaveLength(90)
    expect(uptime.history.at(-1)!.day).toBe(scene.now.toISOString().slice(0, 10))
    const first = scene.firstServedAt.toISOString().slice(0, 10)
    const before = uptime.history.filter((d) => d.day < first)
    expect(before.length).toBe(49)
    expect(before.every((d) => d.state === 'no_data' && d.percent === null)).toBe(true)
    const byDay = new Map(uptime.history.map((d) => [d.day, d]))
    // The first day counts from 09:00 (the first heartbeat), not from midnight.
    expect(byDay.get(first)).toMatchObject({ state: 'operational', percent: 100, downMinutes: 0 })
    expect(byDay.get(scene.outageDay)).toMatchObject({ state: 'outage', percent: 93.75, downMinutes: 90 })
    expect(byDay.get(scene.degradedDay)).toMatchObject({ state: 'degraded', downMinutes: 5 })
    expect(uptime.firstDataAt).toBe(scene.firstServedAt.toISOString())
    const measured = uptime.history.filter((d) => d.state !== 'no_data')
    expect(measured.length).toBe(41)
    expect(uptime.percent).toBeGreaterThan(99.5)
    expect(uptime.percent).toBeLessThan(100)
  })

  it('lists past incidents with the post-incident summary and the estimate against reality', async () => {
    const { past } = (await snapshot()).incidents
    expect(past.map((i) => i.id)).toEqual([scene.pastIncidentId])
    const p = past[0]!
    // Probe failures map to control_plane_failover (300 s); the incident resolved after 25 min.
    expect(p.postIncident).toMatchObject({
      durationSeconds: 25 * 60,
      estimatedSeconds: 300,
      differenceSeconds: 20 * 60,
      prevention: 'Certificates are renewed 30 days ahead, and an alert fires 14 days before expiry.',
    })
    expect(p.postIncident!.rootCause).toMatch(/stalled\.$/)
  })
})

describe('GET /status', () => {
  it('renders the page on the server: landmarks, headings, incidents with estimates, bars with text', async () => {
    const { body, type, res } = await text('/status')
    expect(type).toMatch(/^text\/html/)
    expect(res.headers.get('content-security-policy')).toMatch(/default-src 'none'/)
    for (const landmark of ['<header>', '<main ', '<footer>']) expect(body).toContain(landmark)
    expect(body.match(/<h1>/g)).toHaveLength(1)
    expect(body).toContain(`data-incident="${scene.probeIncidentId}"`)
    expect(body).toContain(`data-estimate="${scene.estimate}"`)
    expect(body).toMatch(/Estimated recovery: <time datetime="[^"]+">\d{4}-\d\d-\d\d \d\d:\d\d UTC<\/time>/)
    expect(body.match(/<rect [^>]*data-day=/g)).toHaveLength(90)
    expect(body).toContain('role="img" aria-labelledby="bars-title bars-desc"')
    expect(body).toContain(`data-day="${scene.outageDay}" data-state="outage"`)
    // Nothing is loaded from anywhere: no script, no stylesheet link, no remote URL.
    expect(body).not.toMatch(/<script|<link rel="stylesheet"|src="http|url\(/)
  })
})

describe('GET /status/feed.atom', () => {
  const parse = (xml: string) => new DOMParser().parseFromString(xml, 'application/xml')
  const child = (el: Element, name: string) => el.getElementsByTagNameNS(ATOM, name)[0]
  const rfc3339 = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/

  it('is a valid Atom 1.0 feed: id, title, updated, author, self link, entries with stable ids', async () => {
    const { body, type } = await text('/status/feed.atom')
    expect(type).toBe('application/atom+xml; charset=utf-8')
    const feed = parse(body).documentElement!
    expect(feed.namespaceURI).toBe(ATOM)
    expect(feed.localName).toBe('feed')
    expect(child(feed, 'id')!.textContent).toMatch(/\/status$/)
    expect(child(feed, 'title')!.textContent).toBeTruthy()
    expect(child(feed, 'updated')!.textContent).toMatch(rfc3339)
    expect(child(feed, 'author')!.getElementsByTagNameNS(ATOM, 'name')[0]!.textContent).toBe('Steward')
    const entries = Array.from(feed.getElementsByTagNameNS(ATOM, 'entry'))
    expect(entries).toHaveLength(3)
    for (const e of entries) {
      expect(child(e, 'id')!.textContent).toMatch(/^urn:uuid:[0-9a-f-]{36}$/)
      expect(child(e, 'title')!.textContent).toBeTruthy()
      expect(child(e, 'updated')!.textContent).toMatch(rfc3339)
      expect(child(e, 'summary')!.textContent).toBeTruthy()
    }
    const ids = entries.map((e) => child(e, 'id')!.textContent)
    expect(ids).toContain(`urn:uuid:${scene.probeIncidentId.slice(4)}`)
    // The feed is as new as its newest entry.
    const newest = entries
      .map((e) => child(e, 'updated')!.textContent!)
      .sort()
      .at(-1)
    expect(child(feed, 'updated')!.textContent).toBe(newest)
  })

  it('keeps an entry id when the incident changes, and moves its updated time', async () => {
    const entryOf = async (incidentId: string) => {
      statusModule().invalidate()
      const feed = parse((await text('/status/feed.atom')).body).documentElement!
      const e = Array.from(feed.getElementsByTagNameNS(ATOM, 'entry')).find(
        (x) => child(x, 'id')!.textContent === `urn:uuid:${incidentId.slice(4)}`,
      )!
      return { updated: child(e, 'updated')!.textContent!, summary: child(e, 'summary')!.textContent! }
    }
    const before = await entryOf(scene.poolIncidentId)
    const res = await s.api('POST', `/v1/incidents/${scene.poolIncidentId}/updates`, {
      message: 'A worker for pool gpu is starting <now> & will drain the queue.',
    })
    expect(res.status).toBe(201)
    const after = await entryOf(scene.poolIncidentId)
    expect(after.updated > before.updated).toBe(true)
    expect(after.summary).toContain('A worker for pool gpu is starting <now> & will drain the queue.')
  })
})

describe('what the public never sees', () => {
  it('names no customer (id or name) on /status, /v1/status or the feed while customers have incidents', async () => {
    statusModule().invalidate()
    // The customers are affected by open incidents, and operators' text names them.
    const customerView = await s.api('GET', `/v1/incidents/${scene.probeIncidentId}`)
    const incident = (await customerView.json()) as { customerIds: string[] }
    expect(incident.customerIds).toEqual(SCENE_CUSTOMERS.map((c) => c.id).sort())
    for (const path of ['/status', '/v1/status', '/status/feed.atom']) {
      const { body } = await text(path)
      for (const c of SCENE_CUSTOMERS) {
        expect(body.toLowerCase(), `${path} names ${c.id}`).not.toContain(c.id.toLowerCase())
        expect(body.toLowerCase(), `${path} names ${c.name}`).not.toContain(c.name.toLowerCase())
      }
    }
    const page = (await text('/status')).body
    expect(page).toContain('under way. A customer (a customer) and others may see errors')
  })
})

describe('who may call it', () => {
  it('exempts exactly /v1/status from the bearer token', async () => {
    expect((await s.api('GET', '/v1/status', undefined, null)).status).toBe(200)
    expect((await s.api('GET', '/v1/statuses', undefined, null)).status).toBe(401)
    expect((await s.api('GET', '/v1/incidents', undefined, null)).status).toBe(401)
    expect((await s.api('POST', '/v1/status', {}, null)).status).toBe(405)
  })
})

describe('when a source cannot be read', () => {
  it('shows what it cannot read as unavailable, and still renders the page', async () => {
    // A port nobody listens on: ClickHouse refuses every connection.
    const port = await new Promise<number>((resolve) => {
      const srv = createServer().listen(0, '127.0.0.1', () => {
        const p = (srv.address() as { port: number }).port
        srv.close(() => resolve(p))
      })
    })
    const dead = createClient({
      url: `http://127.0.0.1:${port}`,
      request_timeout: 1_000,
      log: { level: ClickHouseLogLevel.OFF },
    })
    try {
      const mod = <T>(name: string) => s.modules.find((m) => m.name === name) as T
      const uses: StatusUses = {
        tenants: mod('tenants'),
        orchestrator: mod('orchestrator'),
        ingest: mod('ingest'),
        incidents: mod('incidents'),
        // The SLA engine reads the same (unreachable) ClickHouse.
        sla: {
          uptimeTarget: 99.9,
          factoryUptime: () => dead.query({ query: 'SELECT 1' }).then(() => Promise.reject(new Error('?'))),
        },
        baseUrl: 'http://steward.test',
      }
      const snap = await buildSnapshot({ pool: s.deps.pool, clickhouse: dead }, uses, {
        cacheSeconds: 0,
        signalTimeoutMs: 2_000,
        slowQueueSeconds: 300,
        pagingDelaySeconds: 120,
      })
      const state = Object.fromEntries(snap.components.map((c) => [c.id, c.state]))
      expect(state.telemetry).toBe('outage')
      // The API still accepts runs (PostgreSQL answers), but the open probe incident keeps it out.
      expect(snap.components.find((c) => c.id === 'telemetry')!.detail).toMatch(/does not answer/)
      expect(snap.uptime).toMatchObject({ history: [], percent: null, unavailable: expect.any(String) })
      // Incidents come from PostgreSQL: still there.
      expect(snap.incidents.open.length).toBe(2)
      const page = String(await renderStatusPage(snap))
      expect(page).toContain('Uptime history is temporarily unavailable.')
      expect(page).not.toContain('ECONNREFUSED')
    } finally {
      await dead.close()
    }
  })
})
