// A TCP proxy on loopback in front of PostgreSQL, to take the database away from a process and give
// it back: `close()` refuses connections (PostgreSQL is down), `cut()` keeps every connection open
// but forwards nothing more either way (a network partition: no error, no answer).
import { connect, createServer, type Socket } from 'node:net'

export interface TcpProxy {
  port: number
  /** Stops forwarding: bytes already sent are held, new connections are accepted and left silent. */
  cut(): void
  /** Destroys every connection and stops listening. */
  close(): Promise<void>
}

/** Listens on 127.0.0.1:`listenPort` (0: any free port) and forwards to `target`'s host and port. */
export function tcpProxy(target: URL, listenPort = 0): Promise<TcpProxy> {
  const sockets = new Set<Socket>()
  const pairs: [Socket, Socket][] = []
  let cut = false
  const server = createServer((client) => {
    sockets.add(client)
    client.on('error', () => client.destroy()).on('close', () => sockets.delete(client))
    if (cut) return client.pause()
    const upstream = connect(Number(target.port), target.hostname)
    sockets.add(upstream)
    pairs.push([client, upstream])
    client.pipe(upstream).pipe(client)
    const drop = () => {
      client.destroy()
      upstream.destroy()
    }
    client.on('close', drop)
    upstream.on('error', drop).on('close', drop)
  })
  return new Promise((resolve) =>
    server.listen(listenPort, '127.0.0.1', () => {
      const address = server.address()
      resolve({
        port: typeof address === 'object' && address ? address.port : listenPort,
        cut() {
          cut = true
          for (const [client, upstream] of pairs) {
            client.unpipe(upstream)
            upstream.unpipe(client)
            client.pause()
            upstream.pause()
          }
        },
        close: () =>
          new Promise<void>((r) => {
            for (const s of sockets) s.destroy()
            server.close(() => r())
          }),
      })
    }),
  )
}
