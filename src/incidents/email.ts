// Customer e-mail over SMTP (nodemailer): the mailer built from SMTP_URL, one message per contact,
// and what an SMTP answer means for the delivery outbox.
//
// Guarantees:
// - one recipient per message (To: that contact alone; no Cc, no Bcc): no customer ever sees
//   another's address, nor a colleague's;
// - the Message-ID is the one stored with the delivery when it was queued, so every attempt of a
//   delivery — also the one after a crash between the server's 250 and our commit — sends the same
//   id, and the receiving side can drop the duplicate;
// - a 5xx reply (permanent in SMTP, RFC 5321 4.2.1; 503 excepted, as nodemailer does) rejects the
//   delivery; a 4xx, a refused or dropped connection, a timeout, refused credentials or a TLS
//   failure is retried, so nothing is lost while the server is down or misconfigured;
// - the SMTP password is never logged: only host, port, TLS mode and user are described;
// - the message cannot read files or URLs (nodemailer's file and URL access are disabled).
import nodemailer, { type NodemailerError, type SMTPTransportOptions } from 'nodemailer'

export interface SmtpEndpoint {
  host: string
  port: number
  /** smtps:// (TLS from the start); smtp:// upgrades with STARTTLS when the server offers it. */
  secure: boolean
  user: string | null
}

export interface OutgoingEmail {
  from: { name: string; address: string }
  replyTo?: string
  to: { name: string; address: string }
  messageId: string
  subject: string
  text: string
  html: string
  /** Extra headers (X-Steward-Event, X-Steward-Delivery). */
  headers: Record<string, string>
}

export type SmtpOutcome =
  | { outcome: 'delivered'; response: string }
  | { outcome: 'rejected' | 'retry'; responseCode?: number; error: string; credentials?: boolean }

export interface Mailer {
  endpoint: SmtpEndpoint
  send(m: OutgoingEmail): Promise<SmtpOutcome>
  close(): void
}

/** What an SMTP_URL points at, without its password. */
export function describeSmtpUrl(smtpUrl: string): SmtpEndpoint {
  const u = new URL(smtpUrl)
  const secure = u.protocol === 'smtps:'
  return {
    host: u.hostname,
    port: u.port ? Number(u.port) : secure ? 465 : 587,
    secure,
    user: u.username ? decodeURIComponent(u.username) : null,
  }
}

/** The Message-ID of a queued e-mail: globally unique, in the sender's domain. */
export function messageIdFor(uuid: string, from: string): string {
  return `<${uuid}@${from.slice(from.lastIndexOf('@') + 1)}>`
}

// Errors nodemailer raises before or without talking to the server that the same message would
// raise again (a malformed message or address, a refused attachment source).
const PERMANENT_LOCAL = new Set(['EMESSAGE', 'EENVELOPE', 'ECONFIG', 'EFILEACCESS', 'EURLACCESS'])

/** What an error of `sendMail` means for the delivery. */
export function classifySmtpError(err: NodemailerError): Exclude<SmtpOutcome, { outcome: 'delivered' }> {
  const responseCode = err.responseCode || undefined
  const error = `${err.code ?? 'ERROR'}: ${(err.response ?? err.message).slice(0, 500)}`
  // Our credentials refused: every message would fail alike until the operator fixes SMTP_URL.
  if (err.code === 'EAUTH' || err.code === 'ENOAUTH')
    return { outcome: 'retry', responseCode, error, credentials: true }
  if (responseCode !== undefined)
    return { outcome: err.permanent ? 'rejected' : 'retry', responseCode, error }
  if (err.code && PERMANENT_LOCAL.has(err.code)) return { outcome: 'rejected', error }
  return { outcome: 'retry', error }
}

export function createMailer(smtpUrl: string, timeoutMs: number): Mailer {
  const options: SMTPTransportOptions = {
    url: smtpUrl,
    connectionTimeout: timeoutMs,
    greetingTimeout: timeoutMs,
    socketTimeout: timeoutMs,
    dnsTimeout: timeoutMs,
    disableFileAccess: true,
    disableUrlAccess: true,
    logger: false,
  }
  const transport = nodemailer.createTransport(options)
  return {
    endpoint: describeSmtpUrl(smtpUrl),
    async send(m) {
      try {
        const info = await transport.sendMail({
          from: m.from,
          to: m.to,
          replyTo: m.replyTo,
          subject: m.subject,
          text: m.text,
          html: m.html,
          messageId: m.messageId,
          headers: { 'Auto-Submitted': 'auto-generated', ...m.headers },
          signal: AbortSignal.timeout(timeoutMs),
        })
        return { outcome: 'delivered', response: info.response }
      } catch (err) {
        return classifySmtpError(err as NodemailerError)
      }
    },
    close: () => transport.close(),
  }
}
