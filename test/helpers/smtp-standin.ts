// A local SMTP server (smtp-server, the library behind many real mail servers' test suites) on
// 127.0.0.1 that the real nodemailer client talks to: it authenticates like a submission server
// (AUTH PLAIN/LOGIN with one user), answers 4xx or 5xx when told to, can be stopped and restarted
// on the same port, and records every message it received, parsed with mailparser.
import type { AddressInfo } from 'node:net'
import { type ParsedMail, simpleParser } from 'mailparser'
import { SMTPServer, type SMTPServerOptions } from 'smtp-server'

export interface ReceivedMail {
  /** MAIL FROM and RCPT TO. */
  envelope: { from: string; to: string[] }
  /** The message as it came over the wire. */
  raw: string
  parsed: ParsedMail
  /** The reply code the stand-in gave at the end of DATA (or meant to: see `beforeReply`). */
  status: number
  /** The user that authenticated the session. */
  user: string | undefined
}

export interface SmtpStandIn {
  port: number
  /** smtp://user:pass@127.0.0.1:port (SMTP_URL). */
  url: string
  /** Every message whose data arrived, in order (also those answered with an error). */
  received: ReceivedMail[]
  /** Messages answered 250. */
  accepted(): ReceivedMail[]
  /** Answer the next `times` messages with `code` at the end of DATA (451: try later; 554: refused). */
  failNext(times: number, code: number, message?: string): void
  /** Answer RCPT TO for `address` with `code` (550: no such mailbox). */
  rejectRecipient(address: string, code?: number): void
  /** Awaited after a message arrived and before it is answered (e.g. to kill the sender first). */
  beforeReply: ((m: ReceivedMail) => Promise<void>) | undefined
  /** Closes the listener (connections are refused) until `start()`. */
  stop(): Promise<void>
  start(): Promise<void>
  close(): Promise<void>
}

const smtpError = (code: number, message: string) => Object.assign(new Error(message), { responseCode: code })

/**
 * Starts the stand-in on `port` (0: a free one). `listen: false` only reserves the description: the
 * server starts later with `start()` (a mail server that comes up after Steward).
 */
export async function startSmtpStandIn(
  opts: { port?: number; user?: string; pass?: string; listen?: boolean } = {},
): Promise<SmtpStandIn> {
  const user = opts.user ?? 'steward'
  const pass = opts.pass ?? 'smtp-secret-pass'
  const received: ReceivedMail[] = []
  const failures: { code: number; message: string }[] = []
  const rejected = new Map<string, number>()
  let server: SMTPServer | undefined
  let port = opts.port ?? 0

  const options: SMTPServerOptions = {
    secure: false,
    disabledCommands: ['STARTTLS'],
    allowInsecureAuth: true,
    authMethods: ['PLAIN', 'LOGIN'],
    logger: false,
    closeTimeout: 200,
    onAuth(auth, _session, callback) {
      if (auth.username === user && auth.password === pass) return callback(null, { user })
      callback(smtpError(535, '5.7.8 Authentication credentials invalid'))
    },
    onRcptTo(address, _session, callback) {
      const code = rejected.get(address.address.toLowerCase())
      if (code) return callback(smtpError(code, `5.1.1 <${address.address}>: mailbox unavailable`))
      callback()
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = []
      stream.on('data', (c: Buffer) => chunks.push(c))
      stream.on('end', async () => {
        const raw = Buffer.concat(chunks).toString('utf8')
        const failure = failures.shift()
        const mail: ReceivedMail = {
          envelope: {
            from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
            to: session.envelope.rcptTo.map((r) => r.address),
          },
          raw,
          parsed: await simpleParser(raw),
          status: failure?.code ?? 250,
          user: session.user as string | undefined,
        }
        received.push(mail)
        if (standIn.beforeReply) await standIn.beforeReply(mail)
        callback(failure ? smtpError(failure.code, failure.message) : null)
      })
    },
  }

  const start = async () => {
    server = new SMTPServer(options)
    server.on('error', () => {})
    await new Promise<void>((resolve, reject) => {
      server!.once('error', reject)
      server!.listen(port, '127.0.0.1', () => resolve())
    })
    port = (server.server.address() as AddressInfo).port
  }
  const stop = async () => {
    const s = server
    server = undefined
    if (s) await new Promise<void>((r) => s.close(() => r()))
  }

  if (opts.listen === false) {
    if (!port) throw new Error('a stand-in that starts later needs its port')
  } else await start()

  const standIn: SmtpStandIn = {
    get port() {
      return port
    },
    get url() {
      return `smtp://${encodeURIComponent(user)}:${encodeURIComponent(pass)}@127.0.0.1:${port}`
    },
    received,
    accepted: () => received.filter((m) => m.status === 250),
    failNext(times, code, message = code >= 500 ? '5.6.0 Message refused' : '4.7.1 Try again later') {
      for (let i = 0; i < times; i++) failures.push({ code, message })
    },
    rejectRecipient(address, code = 550) {
      rejected.set(address.toLowerCase(), code)
    },
    beforeReply: undefined,
    stop,
    start,
    close: stop,
  }
  return standIn
}
