// A local HTTPS stand-in of the PagerDuty Events API v2 (POST /v2/enqueue), for tests and the demo.
// It validates like the real API (400 "invalid event" naming each problem, 202 with the dedup_key),
// answers 429 or 5xx when told to, can be stopped and restarted on the same port, and records what
// it received. Its certificate is signed by a CA generated at start (openssl), so clients trust it
// by that CA only — the same TLS path as production. pdjs reaches it through its `server` option
// and an https.Agent holding `ca`.
import { execFileSync } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createServer, type Server } from 'node:https'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

export interface ReceivedEvent {
  at: Date
  /** The status the stand-in answered. */
  status: number
  body: Record<string, unknown> | undefined
  /** Set for accepted events (202). */
  dedupKey?: string
}

export interface PagerDutyStandIn {
  /** `host:port`, for pdjs's `server` option and PAGERDUTY_EVENTS_HOST. */
  host: string
  /** PEM of the CA that signed the stand-in's certificate. */
  ca: string
  /** A file holding `ca` (for `incidents.pagerduty.caFile`). */
  caFile: string
  received: ReceivedEvent[]
  /** Events answered 202, in order. */
  accepted(): ReceivedEvent[]
  /** Delay every answer by `ms` (a slow PagerDuty; 0 = none). */
  setLatency(ms: number): void
  /** Answer the next `times` requests with `status` (429, 500…); `body` may be non-JSON text. */
  failNext(times: number, status: number, body?: string): void
  /** Closes the listener (connections are refused) until `start()`. */
  stop(): Promise<void>
  start(): Promise<void>
  /** Stops and removes the generated key material. */
  close(): Promise<void>
}

interface Certs {
  dir: string
  ca: string
  key: string
  cert: string
}

/** A throwaway CA and a server certificate for 127.0.0.1/localhost, made with the openssl CLI. */
function makeCerts(): Certs {
  const dir = mkdtempSync(join(tmpdir(), 'pd-standin-'))
  const f = (n: string) => join(dir, n)
  const ssl = (...args: string[]) => execFileSync('openssl', args, { stdio: 'pipe' })
  ssl(
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-days',
    '2',
    '-subj',
    '/CN=steward-pagerduty-standin-ca',
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
    '-keyout',
    f('ca.key'),
    '-out',
    f('ca.pem'),
  )
  ssl(
    'req',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-subj',
    '/CN=localhost',
    '-keyout',
    f('srv.key'),
    '-out',
    f('srv.csr'),
  )
  writeFileSync(
    f('ext.cnf'),
    'subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n',
  )
  ssl(
    'x509',
    '-req',
    '-in',
    f('srv.csr'),
    '-CA',
    f('ca.pem'),
    '-CAkey',
    f('ca.key'),
    '-CAcreateserial',
    '-days',
    '2',
    '-extfile',
    f('ext.cnf'),
    '-out',
    f('srv.pem'),
  )
  return {
    dir,
    ca: readFileSync(f('ca.pem'), 'utf8'),
    key: readFileSync(f('srv.key'), 'utf8'),
    cert: readFileSync(f('srv.pem'), 'utf8'),
  }
}
const severities = new Set(['critical', 'error', 'warning', 'info'])
const actions = new Set(['trigger', 'acknowledge', 'resolve'])

/** The validation of the real Events API v2, as documented: returns the list of problems. */
export function validateEvent(body: unknown): string[] {
  if (!body || typeof body !== 'object' || Array.isArray(body)) return ['Event object is invalid']
  const e = body as Record<string, unknown>
  const errors: string[] = []
  if (typeof e.routing_key !== 'string' || e.routing_key.length === 0)
    errors.push("'routing_key' is missing.")
  else if (e.routing_key.length !== 32) errors.push("'routing_key' must be 32 characters.")
  if (typeof e.event_action !== 'string' || !actions.has(e.event_action)) {
    errors.push("'event_action' is missing or invalid.")
  }
  if (e.dedup_key !== undefined && (typeof e.dedup_key !== 'string' || e.dedup_key.length > 255)) {
    errors.push("'dedup_key' must be a string of at most 255 characters.")
  }
  if (e.event_action === 'trigger') {
    const p = e.payload as Record<string, unknown> | undefined
    if (!p || typeof p !== 'object') errors.push("'payload' is missing.")
    else {
      if (typeof p.summary !== 'string' || p.summary.length === 0)
        errors.push("'payload.summary' is missing.")
      else if (p.summary.length > 1024) errors.push("'payload.summary' is longer than 1024 characters.")
      if (typeof p.source !== 'string' || p.source.length === 0) errors.push("'payload.source' is missing.")
      if (typeof p.severity !== 'string' || !severities.has(p.severity)) {
        errors.push("'payload.severity' is missing or invalid.")
      }
    }
  } else if (typeof e.dedup_key !== 'string' || e.dedup_key.length === 0) {
    errors.push("'dedup_key' is required for acknowledge and resolve.")
  }
  return errors
}

export async function startPagerDutyStandIn(opts: { port?: number } = {}): Promise<PagerDutyStandIn> {
  const certs = makeCerts()
  const caFile = join(certs.dir, 'ca.pem')
  const received: ReceivedEvent[] = []
  const failures: { status: number; body?: string }[] = []
  let server: Server | undefined
  let port = opts.port ?? 0
  let latencyMs = 0

  const handler: Parameters<typeof createServer>[1] = (req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const reply = (status: number, body: unknown, type = 'application/json') => {
        const send = () => {
          res.writeHead(status, { 'Content-Type': type })
          res.end(typeof body === 'string' ? body : JSON.stringify(body))
        }
        if (latencyMs > 0) setTimeout(send, latencyMs)
        else send()
      }
      let body: Record<string, unknown> | undefined
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8'))
      } catch {
        body = undefined
      }
      if (req.method !== 'POST' || req.url !== '/v2/enqueue') {
        received.push({ at: new Date(), status: 404, body })
        return reply(404, { status: 'not found' })
      }
      const failure = failures.shift()
      if (failure) {
        received.push({ at: new Date(), status: failure.status, body })
        return failure.body !== undefined
          ? reply(failure.status, failure.body, 'text/html')
          : reply(failure.status, {
              status: 'throttle event',
              message: 'Requests for this service are arriving too quickly.',
            })
      }
      const errors = validateEvent(body)
      if (errors.length) {
        received.push({ at: new Date(), status: 400, body })
        return reply(400, { status: 'invalid event', message: 'Event object is invalid', errors })
      }
      const dedupKey = (body!.dedup_key as string | undefined) ?? randomUUID().replaceAll('-', '')
      received.push({ at: new Date(), status: 202, body, dedupKey })
      reply(202, { status: 'success', message: 'Event processed', dedup_key: dedupKey })
    })
  }

  async function start(): Promise<void> {
    if (server) return
    const s = createServer({ key: certs.key, cert: certs.cert }, handler)
    await new Promise<void>((resolve, reject) => {
      s.once('error', reject)
      s.listen(port, '127.0.0.1', () => resolve())
    })
    port = (s.address() as AddressInfo).port
    server = s
  }

  async function stop(): Promise<void> {
    const s = server
    if (!s) return
    server = undefined
    await new Promise<void>((resolve) => {
      s.close(() => resolve())
      s.closeAllConnections()
    })
  }

  await start()
  return {
    host: `127.0.0.1:${port}`,
    ca: certs.ca,
    caFile,
    received,
    accepted: () => received.filter((r) => r.status === 202),
    setLatency(ms) {
      latencyMs = ms
    },
    failNext(times, status, body) {
      for (let i = 0; i < times; i++) failures.push({ status, body })
    },
    stop,
    start,
    async close() {
      await stop()
      rmSync(certs.dir, { recursive: true, force: true })
    },
  }
}
