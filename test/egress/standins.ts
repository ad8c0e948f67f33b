// HTTP stand-ins on loopback for the egress tests: a target that records every request it gets and
// answers by path (echo, redirects, an endless reply, a slow one), so a test can show both what a
// request did and that a refused one never arrived.
import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'

export interface Seen {
  method: string
  path: string
  headers: IncomingHttpHeaders
  body: string
}

export interface StandIn {
  /** `http://<host>:<port>` */
  base: string
  port: number
  seen: Seen[]
  /** The endless reply: bytes written so far, and whether the client closed the connection. */
  endless: { sent: number; closed: boolean; done: Promise<void> }
  close(): Promise<void>
}

/**
 * Paths: `/echo` (200, the request as JSON), `/redirect?status=S&to=URL` (S with Location),
 * `/endless` (200, bytes until the client goes away), `/slow` (200, one byte every 100 ms, never
 * ends), `/status/N` (N), anything else 200 `{"ok":true}`.
 */
export async function startStandIn(host = '127.0.0.1', port = 0): Promise<StandIn> {
  const seen: Seen[] = []
  let endClosed: () => void = () => {}
  const endless = {
    sent: 0,
    closed: false,
    done: new Promise<void>((r) => (endClosed = r)),
  }
  const streamForever = (res: ServerResponse) => {
    const chunk = Buffer.alloc(16 * 1024, 'x')
    res.writeHead(200, { 'content-type': 'text/plain' })
    res.on('close', () => {
      endless.closed = true
      endClosed()
    })
    const pump = () => {
      while (!res.destroyed) {
        endless.sent += chunk.length
        if (!res.write(chunk)) return void res.once('drain', pump)
      }
    }
    pump()
  }
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8')
      const url = new URL(req.url ?? '/', 'http://standin')
      seen.push({ method: req.method ?? '', path: url.pathname, headers: req.headers, body })
      if (url.pathname === '/echo')
        return res
          .writeHead(200, { 'content-type': 'application/json' })
          .end(JSON.stringify({ method: req.method, headers: req.headers, body }))
      if (url.pathname === '/redirect')
        return res
          .writeHead(Number(url.searchParams.get('status') ?? 302), {
            location: url.searchParams.get('to') ?? '/',
          })
          .end('moved')
      if (url.pathname === '/endless') return streamForever(res)
      if (url.pathname === '/slow') {
        res.writeHead(200, { 'content-type': 'text/plain' })
        const t = setInterval(() => res.write('.'), 100)
        res.on('close', () => clearInterval(t))
        return
      }
      const status = /^\/status\/(\d{3})$/.exec(url.pathname)?.[1]
      if (status) return res.writeHead(Number(status)).end(`status ${status}`)
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}')
    })
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, host, resolve)
  })
  const bound = (server.address() as AddressInfo).port
  return {
    base: `http://${host.includes(':') ? `[${host}]` : host}:${bound}`,
    port: bound,
    seen,
    endless,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}
