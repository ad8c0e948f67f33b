// Without SMTP_URL customer e-mail is off: start-up says so, notices still go to webhooks, and the
// outbox queues no e-mail at all. A bad SMTP_URL, or one without a sender, stops start-up with an
// error that names the setting and never echoes the password.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ConfigError } from '../../src/config.ts'
import { createLogger } from '../../src/log.ts'
import { queueCustomerNotification } from '../../src/notify/index.ts'
import { startTestSteward, type TestSteward, testConfig } from '../helpers/app.ts'
import { incidentsOf, testIncidentsConfig, waitFor } from './support.ts'

let s: TestSteward
const logged: Record<string, unknown>[] = []
beforeAll(async () => {
  s = await startTestSteward({
    log: createLogger('info', {}, (line) => logged.push(JSON.parse(line))),
    file: { incidents: testIncidentsConfig({ email: { from: 'status@steward.example' } }) },
  })
  expect((await s.api('POST', '/v1/customers', { id: 'acme', name: 'Acme' })).status).toBe(201)
  const contacts = [{ email: 'ops@acme.example' }]
  expect((await s.api('PUT', '/v1/customers/acme/contacts', { contacts })).status).toBe(200)
})
afterAll(async () => {
  await s?.stop()
})

describe('without SMTP_URL', () => {
  it('says at start-up that customer e-mail is disabled', () => {
    expect(
      logged.some(
        (l) => l.msg === 'customer e-mail disabled: SMTP_URL is not set; notices go to webhooks only',
      ),
    ).toBe(true)
  })

  it('queues no e-mail for a notice whose customer has contacts; its webhook delivery is still made', async () => {
    await queueCustomerNotification(s.deps.pool, {
      customerId: 'acme',
      kind: 'incident.resolved',
      dedupKey: 'test:resolved',
      payload: {},
    })
    await incidentsOf(s).deliver()
    const rows = await waitFor(async () => {
      const { rows } = await s.deps.pool.query<{ channel: string; status: string }>(
        'SELECT channel, status FROM incident_deliveries ORDER BY id',
      )
      return rows.length > 0 && rows.every((r) => r.status !== 'pending') && rows
    }, 'the notice handled')
    expect(rows).toEqual([{ channel: 'webhook', status: 'skipped' }])
  })

  it('shows e-mail as disabled on /readyz', async () => {
    const ready = (await (await s.api('GET', '/readyz', undefined, null)).json()) as {
      incidents: { email: unknown }
    }
    expect(ready.incidents.email).toEqual({ enabled: false })
  })
})

describe('a bad e-mail configuration', () => {
  const env = (over: Record<string, string>) => () =>
    testConfig({ databaseUrl: 'postgres://steward@127.0.0.1:5432/none', env: over })

  it('refuses SMTP_URL without a sender address', () => {
    expect(env({ SMTP_URL: 'smtp://u:hunter2-secret@127.0.0.1:2525' })).toThrow(ConfigError)
    expect(env({ SMTP_URL: 'smtp://u:hunter2-secret@127.0.0.1:2525' })).toThrow(/incidents\.email\.from/)
  })

  it('refuses an SMTP_URL of another scheme, naming it without its password', () => {
    let message = ''
    try {
      env({ SMTP_URL: 'http://u:hunter2-secret@127.0.0.1:2525' })()
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError)
      message = (err as Error).message
    }
    expect(message).toMatch(/SMTP_URL: must be a smtp:\/\/ or smtps:\/\/ URL/)
    expect(message).not.toContain('hunter2')
  })
})
