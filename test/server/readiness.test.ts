// GET /readyz says 503 and why until PostgreSQL answers and migrations ran, 200 after, and 503
// again while PostgreSQL is unreachable. PostgreSQL "comes up" through a TCP proxy we open late.
import { afterAll, describe, expect, inject, it } from 'vitest'
import { freePort } from '../../src/db/postgres.ts'
import { type Steward, startSteward } from '../../src/server/index.ts'
import { testConfig } from '../helpers/app.ts'
import { createTestDatabaseUrl, quietLog, testClickHouseDir } from '../helpers/db.ts'
import { waitForStatus } from '../helpers/process.ts'
import { tcpProxy } from '../helpers/tcp-proxy.ts'

let steward: Steward | undefined
afterAll(async () => {
  await steward?.stop()
})

describe('readiness', () => {
  it('is 503 naming PostgreSQL until it answers, 200 once up and migrated, 503 while it is gone', async () => {
    const real = new URL(await createTestDatabaseUrl())
    const pgPort = await freePort()
    const viaProxy = new URL(real)
    viaProxy.host = `127.0.0.1:${pgPort}`
    const httpPort = await freePort()
    const config = {
      ...testConfig({ databaseUrl: viaProxy.toString(), env: { PORT: String(httpPort) } }),
      clickhouseDir: testClickHouseDir(),
    }
    const starting = startSteward({ config, log: quietLog, scheduler: false })
    const url = `http://127.0.0.1:${httpPort}`

    await expect
      .poll(
        async () =>
          (await fetch(`${url}/readyz`)
            .then((r) => r.json())
            .catch(() => ({}))) as object,
        {
          timeout: 20_000,
        },
      )
      .toMatchObject({ status: 'not ready', reason: expect.stringMatching(/waiting for postgres/) })
    expect((await fetch(`${url}/healthz`)).status).toBe(200)
    expect((await fetch(`${url}/v1/customers`)).status).toBe(503)

    let pg = await tcpProxy(new URL(inject('pgAdminUrl')), pgPort)
    steward = await starting
    const ready = await waitForStatus(`${url}/readyz`, 200, 20_000)
    expect(await ready.json()).toMatchObject({ status: 'ready' })

    await pg.close()
    const down = await waitForStatus(`${url}/readyz`, 503, 20_000)
    expect(await down.json()).toMatchObject({ reason: expect.stringMatching(/^postgres/) })

    pg = await tcpProxy(new URL(inject('pgAdminUrl')), pgPort)
    await waitForStatus(`${url}/readyz`, 200, 20_000)
    await steward.stop()
    steward = undefined
    await pg.close()
  })
})
