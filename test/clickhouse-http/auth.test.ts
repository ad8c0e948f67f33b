// /clickhouse — who gets in: user `steward` with the admin token or STEWARD_GRAFANA_TOKEN, by
// basic auth, X-ClickHouse-User/Key headers or user/password URL parameters. Everyone else is
// refused as ClickHouse refuses them (AUTHENTICATION_FAILED 516 / 403, REQUIRED_PASSWORD 194 / 401),
// customer tokens included. With CLICKHOUSE_URL set the interface is a 404 naming the way out.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createClickHouseHttp } from '../../src/clickhouse-http/index.ts'
import { ADMIN_TOKEN, startTestSteward, type TestSteward } from '../helpers/app.ts'
import { ch } from './support.ts'

const GRAFANA_TOKEN = 'grafana-read-token-0123456789'
let s: TestSteward
let customerToken: string
beforeAll(async () => {
  s = await startTestSteward({ env: { STEWARD_GRAFANA_TOKEN: GRAFANA_TOKEN } })
  expect((await s.api('POST', '/v1/customers', { id: 'acme', name: 'Acme' })).status).toBe(201)
  ;({ token: customerToken } = (await (await s.api('POST', '/v1/customers/acme/tokens', {})).json()) as {
    token: string
  })
})
afterAll(async () => {
  await s?.stop()
})

const SELECT = 'SELECT 42 AS answer FORMAT TSV'

describe('who gets in', () => {
  it('user steward with the admin token, by basic auth', async () => {
    expect(await ch(s, { body: SELECT })).toMatchObject({ status: 200, text: '42\n' })
  })

  it('user steward with STEWARD_GRAFANA_TOKEN', async () => {
    const a = await ch(s, { body: SELECT, auth: { user: 'steward', password: GRAFANA_TOKEN } })
    expect(a).toMatchObject({ status: 200, text: '42\n' })
  })

  it('the same credentials in X-ClickHouse-User / X-ClickHouse-Key headers or user / password parameters', async () => {
    const headers = { 'x-clickhouse-user': 'steward', 'x-clickhouse-key': GRAFANA_TOKEN }
    expect(await ch(s, { body: SELECT, auth: null, headers })).toMatchObject({ status: 200, text: '42\n' })
    const url = { user: 'steward', password: ADMIN_TOKEN }
    expect(await ch(s, { body: SELECT, auth: null, url })).toMatchObject({ status: 200, text: '42\n' })
  })
})

describe('who is refused', () => {
  it.each([
    ['a customer token', () => ({ user: 'steward', password: customerToken })],
    ['a wrong password', () => ({ user: 'steward', password: 'not-the-token-0123456789' })],
    ['another user with the admin token', () => ({ user: 'default', password: ADMIN_TOKEN })],
    ['an empty password', () => ({ user: 'steward', password: '' })],
  ])('%s: AUTHENTICATION_FAILED, 403', async (_n, auth) => {
    const a = await ch(s, { body: SELECT, auth: auth() })
    expect(a.status).toBe(403)
    expect(a.code).toBe(516)
    expect(a.text).toMatch(/^Code: 516\. DB::Exception: .*Authentication failed.*\(AUTHENTICATION_FAILED\)/)
    expect(a.text).not.toContain('42')
  })

  it('a customer token in the ClickHouse headers or URL parameters too', async () => {
    const h = await ch(s, {
      body: SELECT,
      auth: null,
      headers: { 'x-clickhouse-user': 'steward', 'x-clickhouse-key': customerToken },
    })
    const u = await ch(s, { body: SELECT, auth: null, url: { user: 'steward', password: customerToken } })
    expect([h.status, h.code, u.status, u.code]).toEqual([403, 516, 403, 516])
  })

  it('no credentials: REQUIRED_PASSWORD, 401 with a Basic challenge', async () => {
    const a = await ch(s, { body: SELECT, auth: null })
    expect([a.status, a.code]).toEqual([401, 194])
    expect(a.headers.get('www-authenticate')).toMatch(/^Basic/)
  })

  it('a bearer token (the /v1 way) or two ways at once', async () => {
    const bearer = await ch(s, {
      body: SELECT,
      auth: null,
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
    })
    expect([bearer.status, bearer.code]).toEqual([403, 516])
    const both = await ch(s, { body: SELECT, url: { user: 'steward', password: ADMIN_TOKEN } })
    expect([both.status, both.code]).toEqual([403, 516])
    expect(both.text).toContain('simultaneously')
  })

  it('nobody without STEWARD_GRAFANA_TOKEN set gets in with a made-up one', async () => {
    const plain = await startTestSteward({ databaseUrl: undefined })
    try {
      const a = await ch(plain, { body: SELECT, auth: { user: 'steward', password: GRAFANA_TOKEN } })
      expect([a.status, a.code]).toEqual([403, 516])
    } finally {
      await plain.stop()
    }
  })
})

describe('with CLICKHOUSE_URL set', () => {
  it('answers 404 problem+json saying to point Grafana at that server', async () => {
    // As the composition root builds it when CLICKHOUSE_URL names a server: no embedded store.
    const module = createClickHouseHttp(
      { ...s.deps, config: s.deps.config.clickhouse.http },
      { embeddedPath: undefined, passwords: [ADMIN_TOKEN] },
    )
    for (const path of ['/clickhouse', '/clickhouse/ping']) {
      const res = await module.publicRoutes!.request(path)
      expect(res.status).toBe(404)
      expect(res.headers.get('content-type')).toBe('application/problem+json')
      expect(((await res.json()) as { detail: string }).detail).toMatch(/point Grafana.*at that server/)
    }
  })
})
