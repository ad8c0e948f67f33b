// At least once, with a stable Message-ID: a `steward serve` killed with SIGKILL after the SMTP
// server received an e-mail but before Steward recorded it sends that e-mail again after the
// restart, with the same Message-ID (so the receiving side can drop the duplicate), and records it
// delivered. Real processes, a real PostgreSQL, the real nodemailer client and a local SMTP server.
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { createPool, type Pool } from '../../src/db/postgres.ts'
import { queueCustomerNotification } from '../../src/notify/index.ts'
import { createTestDatabaseUrl } from '../helpers/db.ts'
import { type StewardProcess, serveSteward } from '../helpers/process.ts'
import { type SmtpStandIn, startSmtpStandIn } from '../helpers/smtp-standin.ts'
import { waitFor } from './support.ts'

const token = 'email-crash-admin-token-0123456789'
const running: StewardProcess[] = []
let smtp: SmtpStandIn
let databaseUrl: string
let pool: Pool
let configFile: string

beforeAll(async () => {
  smtp = await startSmtpStandIn()
  databaseUrl = await createTestDatabaseUrl()
  pool = createPool(databaseUrl, { max: 2 })
  configFile = join(mkdtempSync(join(tmpdir(), 'steward-email-crash-')), 'steward.json')
  writeFileSync(
    configFile,
    JSON.stringify({
      incidents: {
        email: { from: 'status@steward.example' },
        delivery: { pollMs: 100, backoffMs: 50, maxBackoffMs: 200 },
      },
    }),
  )
})
afterAll(async () => {
  for (const p of running) p.child.kill('SIGKILL')
  await pool?.end()
  await smtp?.close()
})

async function serve(): Promise<{ proc: StewardProcess; url: string }> {
  const started = await serveSteward({
    DATABASE_URL: databaseUrl,
    // Each process its own embedded ClickHouse: the killed one may leave its directory locked.
    STEWARD_DATA_DIR: mkdtempSync(join(tmpdir(), 'steward-email-crash-data-')),
    STEWARD_ADMIN_TOKEN: token,
    STEWARD_CONFIG: configFile,
    SMTP_URL: smtp.url,
  })
  running.push(started.proc)
  return started
}

const api = (url: string, method: string, path: string, body: unknown) =>
  fetch(`${url}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  })

async function emailRow() {
  const { rows } = await pool.query<{ status: string; attempts: number }>(
    `SELECT status, attempts FROM incident_deliveries WHERE channel = 'email'`,
  )
  return rows
}

it('sends the same Message-ID again after a crash between the server accepting the e-mail and Steward recording it', async () => {
  const first = await serve()
  expect((await api(first.url, 'POST', '/v1/customers', { id: 'acme', name: 'Acme' })).status).toBe(201)
  const contacts = { contacts: [{ email: 'ops@acme.example', name: 'Acme Ops' }] }
  expect((await api(first.url, 'PUT', '/v1/customers/acme/contacts', contacts)).status).toBe(200)

  // The server has the whole message; before it answers 250, the sender dies.
  smtp.beforeReply = async () => {
    smtp.beforeReply = undefined
    first.proc.child.kill('SIGKILL')
    await first.proc.exited
  }
  await queueCustomerNotification(pool, {
    customerId: 'acme',
    kind: 'sla.monthly_report',
    dedupKey: 'sla:2026-01',
    payload: {
      month: '2026-01',
      creditId: 7,
      creditPercent: 0,
      creditAmount: '0.00',
      currency: 'USD',
      billingCycle: '2026-02',
      uptimePercent: 100,
      uptimeTarget: 99.9,
      successRate: 99.5,
      successRateTarget: 95,
      tiers: [],
      report: '/v1/sla/credits?month=2026-01&customerId=acme&format=html',
    },
  })
  expect(await first.proc.exited).toBe('SIGKILL')
  expect(smtp.received).toHaveLength(1)
  // Nothing recorded the send: the e-mail is still pending, no attempt counted.
  expect(await emailRow()).toEqual([{ status: 'pending', attempts: 0 }])

  const second = await serve()
  await waitFor(async () => smtp.received.length === 2, 'the e-mail sent again', 60_000)
  const [lost, again] = smtp.received
  expect(again!.parsed.messageId).toBe(lost!.parsed.messageId)
  expect(again!.parsed.messageId).toMatch(/^<[0-9a-f-]{36}@steward\.example>$/)
  expect(again!.parsed.subject).toBe(lost!.parsed.subject)
  await waitFor(async () => (await emailRow())[0]?.status === 'delivered', 'recorded as delivered')
  expect(await emailRow()).toEqual([{ status: 'delivered', attempts: 1 }])
  second.proc.child.kill('SIGTERM')
  expect(await second.proc.exited).toBe(0)
})
