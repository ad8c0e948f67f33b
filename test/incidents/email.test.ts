// Customer e-mail through the delivery outbox, against a local SMTP server (smtp-server) that the
// real nodemailer client talks to: one message per contact that receives the notice's kind, what
// each kind says (incident title, latest update, estimate; the credit in the plan currency; the
// report link), a stable Message-ID, retries on 4xx and on refused connections, rejection and
// reporting on 5xx, and no other customer's address in any message. The crash between the server's
// 250 and our commit: email-crash.test.ts. E-mail disabled: email-disabled.test.ts.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createLogger } from '../../src/log.ts'
import { queueCustomerNotification } from '../../src/notify/index.ts'
import { startTestSteward, type TestSteward } from '../helpers/app.ts'
import { type ReceivedMail, type SmtpStandIn, startSmtpStandIn } from '../helpers/smtp-standin.ts'
import { heartbeats, insertEvents as insertGolden, parseMonth, range } from '../sla/golden.ts'
import { evaluateAt, insertEvents, runs, testEpoch, testIncidentsConfig, waitFor } from './support.ts'

let smtp: SmtpStandIn
let s: TestSteward
const logged: Record<string, unknown>[] = []
const FROM = 'status@steward.example'

const CONTACTS: Record<string, { email: string; name?: string; notices?: string[] }[]> = {
  acme: [
    { email: 'ops@acme.example', name: 'Acme Ops' },
    // The monthly report only: in a month with a credit, the credit notice is the report.
    { email: 'cfo@acme.example', notices: ['sla.monthly_report'] },
  ],
  globex: [{ email: 'oncall@globex.example', notices: ['incident.investigating', 'incident.resolved'] }],
  hooli: [{ email: 'gone@hooli.example' }, { email: 'here@hooli.example' }],
  initech: [{ email: 'billing@initech.example', name: 'Billing', notices: ['sla.monthly_report'] }],
}
const ALL_ADDRESSES = Object.values(CONTACTS).flatMap((l) => l.map((c) => c.email))

beforeAll(async () => {
  smtp = await startSmtpStandIn()
  s = await startTestSteward({
    log: createLogger('info', {}, (line) => logged.push(JSON.parse(line))),
    env: { SMTP_URL: smtp.url, STEWARD_URL: 'https://steward.example' },
    file: {
      incidents: testIncidentsConfig({ email: { from: FROM, fromName: 'Steward Status' } }),
      sla: { defaultPlan: { monthlyFee: 1000, currency: 'EUR' } },
    },
  })
  for (const [id, contacts] of Object.entries(CONTACTS)) {
    const name = id[0]!.toUpperCase() + id.slice(1)
    // Initech's contract starts in the last hour of September: its September has no down minute.
    const since = id === 'initech' ? '2025-09-30T23:00:00Z' : '2025-08-01T00:00:00Z'
    expect((await s.api('POST', '/v1/customers', { id, name, since })).status).toBe(201)
    expect((await s.api('PUT', `/v1/customers/${id}/contacts`, { contacts })).status).toBe(200)
  }
})
afterAll(async () => {
  await s?.stop()
  await smtp?.close()
})

const mailTo = (address: string, event: string) =>
  smtp
    .accepted()
    .filter((m) => m.envelope.to.includes(address) && m.parsed.headers.get('x-steward-event') === event)

const waitForMail = (address: string, event: string) =>
  waitFor(async () => mailTo(address, event)[0], `${event} e-mail to ${address}`)

/** Waits until no e-mail is pending (so a test's failures hit its own message). */
const settled = () =>
  waitFor(async () => {
    const { rows } = await s.deps.pool.query(
      `SELECT 1 FROM incident_deliveries WHERE channel = 'email' AND status = 'pending' LIMIT 1`,
    )
    return rows.length === 0
  }, 'no pending e-mail')

async function emailRows(address: string) {
  const { rows } = await s.deps.pool.query<{
    status: string
    attempts: number
    last_status: number | null
    last_error: string | null
  }>(
    `SELECT status, attempts, last_status, last_error FROM incident_deliveries
     WHERE channel = 'email' AND body->'to'->>'address' = $1 ORDER BY id`,
    [address],
  )
  return rows
}

/** Waits until the newest e-mail delivery to `address` is `status`; returns that row. */
const settledAs = (address: string, status: 'delivered' | 'rejected') =>
  waitFor(async () => {
    const row = (await emailRows(address)).at(-1)
    return row?.status === status && row
  }, `the latest e-mail to ${address} ${status}`)

const utc = (iso: string) => `${iso.slice(0, 16).replace('T', ' ')} UTC`

describe('incident e-mail', () => {
  const t0 = testEpoch()
  let incident: { id: string; summary: string; estimatedRecoveryAt: string }

  it('e-mails an opened incident to each contact that receives it: title, severity, start and estimate', async () => {
    await insertEvents(s.deps.clickhouse!, [
      ...runs('acme', t0, 40, 20, 4 * 60_000),
      ...runs('globex', t0, 40, 30, 4 * 60_000),
    ])
    await evaluateAt(s, t0)
    const list = (await (await s.api('GET', '/v1/incidents?customerId=acme')).json()) as {
      items: (typeof incident)[]
    }
    incident = list.items[0]!
    const mail = await waitForMail('ops@acme.example', 'incident.investigating')
    const p = mail.parsed
    expect(p.subject).toBe(`[Steward] Investigating: ${incident.summary}`)
    expect(p.from?.value).toEqual([{ address: FROM, name: 'Steward Status' }])
    expect(p.to).toMatchObject({ value: [{ address: 'ops@acme.example', name: 'Acme Ops' }] })
    expect(p.cc).toBeUndefined()
    expect(p.headers.get('auto-submitted')).toBe('auto-generated')
    expect(p.text).toContain(incident.summary)
    expect(p.text).toContain('Severity:')
    expect(p.text).toContain(
      `Estimated recovery: ${utc(incident.estimatedRecoveryAt)} (our recovery-time objective`,
    )
    expect(p.text).toContain(`https://steward.example/v1/incidents/${incident.id}`)
    expect(p.text).toContain('https://steward.example/status')
    expect(p.html).toContain(utc(incident.estimatedRecoveryAt))
    // Globex's contact hears of Globex's incident, never of Acme's.
    const globex = await waitForMail('oncall@globex.example', 'incident.investigating')
    expect(globex.parsed.text).not.toContain(incident.id)
    expect(globex.parsed.text).toContain('globex')
  })

  it('sends the opening to nobody who did not ask for incident notices', async () => {
    expect(smtp.received.filter((m) => m.envelope.to.includes('cfo@acme.example'))).toEqual([])
  })

  it("e-mails an operator's update with its text as written (escaped in HTML) and the revised estimate", async () => {
    const estimate = new Date(Date.now() + 45 * 60_000).toISOString()
    const message = 'Failover <b>under way</b> & the queue drains.\nNext update in 30 min.'
    const res = await s.api('POST', `/v1/incidents/${incident.id}/updates`, {
      message,
      estimatedRecoveryAt: estimate,
    })
    expect(res.status).toBe(201)
    const mail = await waitForMail('ops@acme.example', 'incident.update')
    expect(mail.parsed.subject).toBe(`[Steward] Update: ${incident.summary}`)
    expect(mail.parsed.text).toContain(message)
    expect(mail.parsed.text).toContain(`Estimated recovery: ${utc(estimate)} (our engineers' estimate)`)
    expect(mail.parsed.html).toContain('Failover &#60;b&#62;under way&#60;/b&#62; &#38; the queue drains.')
    expect(mail.parsed.html).not.toContain('<b>under way')
    // Globex's contact did not ask for updates.
    expect(mailTo('oncall@globex.example', 'incident.update')).toEqual([])
  })

  it('e-mails the resolution with the recovery against the estimate and the report link', async () => {
    expect((await s.api('POST', `/v1/incidents/${incident.id}/resolve`)).status).toBe(200)
    const mail = await waitForMail('ops@acme.example', 'incident.resolved')
    expect(mail.parsed.subject).toBe(`[Steward] Resolved: ${incident.summary}`)
    expect(mail.parsed.text).toMatch(/Resolved: +\d{4}-\d\d-\d\d \d\d:\d\d UTC, after /)
    expect(mail.parsed.text).toMatch(/earlier than estimated|later than estimated|on time/)
    expect(mail.parsed.text).toContain(
      `https://steward.example/v1/incidents/${incident.id}/report?format=markdown`,
    )
  })

  it('writes HTML that loads nothing: no images, scripts, styles sheets or remote sources', async () => {
    for (const m of smtp.accepted()) {
      const html = String(m.parsed.html)
      expect(html).not.toMatch(/<(img|script|link|iframe|object|embed)\b/i)
      expect(html).not.toMatch(/\ssrc=|url\(|@import/i)
      expect(m.parsed.attachments).toEqual([])
    }
  })
})

describe('SLA e-mail', () => {
  it('e-mails a credit in the plan currency, with the report link, to the contacts of the monthly report', async () => {
    // The factory was down for 44 minutes of September, from 01:00 (minutes before its first signal
    // ever would not be in service: docs/sla.md, "Service start").
    await insertGolden(s.deps.clickhouse!, heartbeats(parseMonth('2025-09'), new Set(range(60, 44))))
    expect((await s.api('POST', '/v1/sla/close?month=2025-09')).status).toBe(200)
    for (const address of ['cfo@acme.example', 'ops@acme.example']) {
      const mail = await waitForMail(address, 'sla.credit_issued')
      expect(mail.parsed.subject).toBe('[Steward] SLA credit for 2025-09: 100.00 EUR')
      expect(mail.parsed.text).toContain('Credit:')
      expect(mail.parsed.text).toContain('100.00 EUR (10 % of the monthly fee)')
      expect(mail.parsed.text).toContain('the 2025-10 bill')
      expect(mail.parsed.text).toContain('99.8981 % (target 99.9 %)')
      expect(mail.parsed.text).toContain(
        'https://steward.example/v1/sla/credits?month=2025-09&customerId=acme&format=html',
      )
      expect(mail.parsed.html).toContain(
        'href="https://steward.example/v1/sla/credits?month=2025-09&#38;customerId=acme&#38;format=html"',
      )
    }
    // Globex's contact receives incident notices only.
    await waitFor(async () => mailTo('here@hooli.example', 'sla.credit_issued')[0], 'hooli credit')
    expect(
      smtp.received.filter(
        (m) => m.envelope.to.includes('oncall@globex.example') && m.parsed.subject?.includes('SLA'),
      ),
    ).toEqual([])
  })

  it('e-mails the monthly report of a month without a credit', async () => {
    const mail = await waitForMail('billing@initech.example', 'sla.monthly_report')
    expect(mail.parsed.subject).toBe('[Steward] SLA report for 2025-09: no credit due')
    expect(mail.parsed.to).toMatchObject({ value: [{ address: 'billing@initech.example', name: 'Billing' }] })
    expect(mail.parsed.text).toContain('100 % (target 99.9 %)')
    expect(mail.parsed.text).toContain('No credit is due.')
    expect(mail.parsed.text).toContain(
      'https://steward.example/v1/sla/credits?month=2025-09&customerId=initech&format=html',
    )
  })
})

describe('budget e-mail', () => {
  it('e-mails a crossed budget threshold, with the forecast and the status link, to the contacts of that kind', async () => {
    await queueCustomerNotification(s.deps.pool, {
      customerId: 'acme',
      kind: 'budget.threshold',
      dedupKey: 'budget:2026-11:total:30000:80',
      payload: {
        month: '2026-11',
        metric: 'total',
        threshold: 80,
        currency: 'EUR',
        budget: '300.00',
        spent: '240.00',
        budgetCents: 30_000,
        spentCents: 24_000,
        policy: 'pause',
        forecast: { monthEnd: '370.35', reachesBudgetAt: '2026-11-25T07:13:55.480Z' },
        status: '/v1/customers/acme/budget',
      },
    })
    const mail = await waitForMail('ops@acme.example', 'budget.threshold')
    expect(mail.parsed.subject).toBe('[Steward] Budget 80% reached for 2026-11: 240.00 of 300.00 EUR')
    expect(mail.parsed.text).toContain('Forecast for the month:')
    expect(mail.parsed.text).toContain('370.35 EUR')
    expect(mail.parsed.text).toContain('2026-11-25 07:13 UTC')
    expect(mail.parsed.text).toContain('new runs stay queued until the budget is raised or the month turns')
    expect(mail.parsed.text).toContain('https://steward.example/v1/customers/acme/budget')
    // The CFO asked for the monthly report only.
    expect(mailTo('cfo@acme.example', 'budget.threshold')).toEqual([])
  })
})

/** A monthly-report notice, queued as the SLA close queues it. */
async function queueReport(customerId: string, month: string) {
  await queueCustomerNotification(s.deps.pool, {
    customerId,
    kind: 'sla.monthly_report',
    dedupKey: `test:${month}`,
    payload: {
      month,
      creditId: 1,
      creditPercent: 0,
      creditAmount: '0.00',
      currency: 'EUR',
      billingCycle: month,
      uptimePercent: 100,
      uptimeTarget: 99.9,
      successRate: null,
      successRateTarget: 95,
      tiers: [],
      report: `/v1/sla/credits?month=${month}&customerId=${customerId}&format=html`,
    },
  })
}

const messageIds = (mails: ReceivedMail[]) => mails.map((m) => m.parsed.messageId)

describe('what is retried', () => {
  it('retries a 4xx reply with backoff and sends the same Message-ID every time', async () => {
    await settled()
    smtp.failNext(2, 451)
    await queueReport('initech', '2030-01')
    const tries = await waitFor(async () => {
      const got = smtp.received.filter(
        (m) => m.envelope.to[0] === 'billing@initech.example' && m.parsed.text?.includes('2030-01'),
      )
      return got.some((m) => m.status === 250) && got
    }, 'delivery after two 451s')
    expect(tries.map((m) => m.status)).toEqual([451, 451, 250])
    expect(new Set(messageIds(tries)).size).toBe(1)
    expect(tries[0]!.parsed.messageId).toMatch(/^<[0-9a-f-]{36}@steward\.example>$/)
    expect((await settledAs('billing@initech.example', 'delivered')).attempts).toBe(3)
  })

  it('keeps e-mail while the server refuses connections and sends it once the server is up', async () => {
    await settled()
    await smtp.stop()
    await queueReport('acme', '2030-02')
    const failing = await waitFor(async () => {
      const r = (await emailRows('cfo@acme.example')).at(-1)
      return r && r.attempts >= 2 && r
    }, 'two refused attempts')
    expect(failing.status).toBe('pending')
    expect(failing.last_error).toMatch(/ECONNECTION|ESOCKET|ECONNREFUSED/)
    await smtp.start()
    const mail = await waitFor(
      async () =>
        smtp
          .accepted()
          .find((m) => m.envelope.to[0] === 'cfo@acme.example' && m.parsed.text?.includes('2030-02')),
      'delivery after the server came up',
    )
    expect(mail.user).toBe('steward')
    await settledAs('cfo@acme.example', 'delivered')
  })
})

describe('what the server refuses', () => {
  it('marks a 5xx reply rejected at once, logs it, counts it and shows it on /readyz', async () => {
    await settled()
    smtp.rejectRecipient('gone@hooli.example', 550)
    await queueReport('hooli', '2030-03')
    expect(await settledAs('gone@hooli.example', 'rejected')).toMatchObject({ attempts: 1, last_status: 550 })
    // The other contact of the same notice got its own message.
    await waitFor(
      async () =>
        smtp
          .accepted()
          .find((m) => m.envelope.to[0] === 'here@hooli.example' && m.parsed.text?.includes('2030-03')),
      'here',
    )
    expect(
      logged.some(
        (l) =>
          l.level === 'error' && String(l.msg).includes('rejected by the SMTP server') && l.status === 550,
      ),
    ).toBe(true)
    const metrics = await (await s.api('GET', '/metrics')).text()
    expect(metrics).toMatch(/steward_email_deliveries_total\{outcome="rejected"\} [1-9]/)
    expect(metrics).toMatch(/steward_email_deliveries_total\{outcome="retry"\} [1-9]/)
    const ready = (await (await s.api('GET', '/readyz', undefined, null)).json()) as {
      incidents: { email: { enabled: boolean; rejectedLastDay: number; lastRejected: { status: number } } }
    }
    expect(ready.incidents.email).toMatchObject({ enabled: true, lastRejected: { status: 550 } })
    expect(ready.incidents.email.rejectedLastDay).toBeGreaterThanOrEqual(1)
    // /readyz is public: it never shows the server's text (which names the address).
    expect(JSON.stringify(ready)).not.toContain('hooli.example')
  })

  it('rejects a message the server refuses at the end of DATA without trying again', async () => {
    // gone@ is refused at RCPT TO (above): only here@'s message reaches DATA.
    await settled()
    smtp.failNext(1, 554)
    await queueReport('hooli', '2030-04')
    expect(await settledAs('here@hooli.example', 'rejected')).toMatchObject({ attempts: 1, last_status: 554 })
    expect(
      smtp.received.filter(
        (m) => m.envelope.to[0] === 'here@hooli.example' && m.parsed.text?.includes('2030-04'),
      ),
    ).toHaveLength(1)
  })
})

describe('addresses', () => {
  it("puts one recipient in each message and no other contact's address anywhere in it", async () => {
    expect(smtp.received.length).toBeGreaterThan(10)
    for (const m of smtp.received) {
      expect(m.envelope.to).toHaveLength(1)
      const [own] = m.envelope.to
      expect(m.parsed.to).toMatchObject({ value: [{ address: own }] })
      expect(m.parsed.cc).toBeUndefined()
      expect(m.parsed.bcc).toBeUndefined()
      const everything = `${m.raw}\n${m.parsed.text}\n${m.parsed.html}`
      for (const other of ALL_ADDRESSES.filter((a) => a !== own)) expect(everything).not.toContain(other)
    }
  })

  it('says at start-up where e-mail goes, without the SMTP password', async () => {
    const line = logged.find((l) => l.msg === 'customer e-mail enabled')
    expect(line).toMatchObject({
      smtp: { host: '127.0.0.1', port: smtp.port, secure: false, user: 'steward' },
      from: FROM,
    })
    expect(JSON.stringify(logged)).not.toContain('smtp-secret-pass')
  })
})
