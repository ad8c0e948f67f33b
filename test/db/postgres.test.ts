// The PostgreSQL pool when connections break: a client checked out between two of its queries (a
// transaction waiting on other work, a held advisory lock) losing its connection must not crash
// the process; its next query fails, and the pool goes on with fresh connections.
import { afterAll, describe, expect, inject, it } from 'vitest'
import { createPool, type Pool } from '../../src/db/postgres.ts'
import { createTestDatabaseUrl } from '../helpers/db.ts'
import { type TcpProxy, tcpProxy } from '../helpers/tcp-proxy.ts'

let pool: Pool | undefined
let proxy: TcpProxy | undefined
afterAll(async () => {
  await proxy?.close()
  await pool?.end()
})

describe('a checked-out client whose connection breaks', () => {
  it('fails its next query instead of crashing the process, and the pool recovers', async () => {
    const admin = new URL(inject('pgAdminUrl'))
    proxy = await tcpProxy(admin)
    const via = new URL(await createTestDatabaseUrl())
    via.host = `127.0.0.1:${proxy.port}`
    pool = createPool(via.toString(), { max: 2 })
    const client = await pool.connect()
    await client.query('BEGIN')
    const ended = new Promise((r) => client.once('end', r))
    await proxy.close()
    // The connection is gone while the client sits between two queries of its transaction.
    await ended
    await expect(client.query('SELECT 1')).rejects.toThrow()
    client.release()
    proxy = await tcpProxy(admin, proxy.port)
    expect((await pool.query<{ n: number }>('SELECT 1 AS n')).rows[0]!.n).toBe(1)
  })
})
