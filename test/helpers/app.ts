// Starts a whole Steward in-process on a fresh database and this process's chDB, for HTTP tests.
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  type Config,
  type FileConfigInput,
  loadConfig,
  type Steward,
  type StewardOptions,
  startSteward,
} from '../../src/server/index.ts'
import { Conformance, type OpenApiDocument } from './conformance.ts'
import { createTestDatabaseUrl, quietLog, testClickHouseDir } from './db.ts'

export const ADMIN_TOKEN = 'test-admin-token-0123456789'

export interface TestSteward extends Steward {
  /** Calls the API in-process; `token` defaults to the admin token (null: none). */
  api(
    method: string,
    path: string,
    body?: unknown,
    token?: string | null,
    headers?: Record<string, string>,
  ): Promise<Response>
}

export interface TestStewardOptions extends Partial<Omit<StewardOptions, 'config'>> {
  env?: Record<string, string>
  file?: FileConfigInput
  /** Reuse a database (e.g. to restart on the same data). */
  databaseUrl?: string
  /** Reuse a data dir (admin token file, embedded engines). */
  dataDir?: string
}

export function testConfig(
  opts: { databaseUrl: string; dataDir?: string; env?: Record<string, string> },
  file: FileConfigInput = {},
): Config {
  return loadConfig(
    {
      DATABASE_URL: opts.databaseUrl,
      STEWARD_DATA_DIR: opts.dataDir ?? mkdtempSync(join(tmpdir(), 'steward-data-')),
      STEWARD_ADMIN_TOKEN: ADMIN_TOKEN,
      PORT: '0',
      HOST: '127.0.0.1',
      LOG_LEVEL: 'silent',
      ...opts.env,
    },
    file,
  )
}

export async function startTestSteward(opts: TestStewardOptions = {}): Promise<TestSteward> {
  const databaseUrl = opts.databaseUrl ?? (await createTestDatabaseUrl())
  const config = testConfig({ databaseUrl, dataDir: opts.dataDir, env: opts.env }, opts.file)
  // ClickHouse: this process's chDB directory, whatever the data dir.
  const steward = await startSteward({
    listen: false,
    scheduler: false,
    log: quietLog,
    ...opts,
    config: { ...config, clickhouseUrl: undefined, clickhouseDir: testClickHouseDir() },
  })
  // Every answer a test gets through api() is checked against the served OpenAPI document.
  let conformance: Promise<Conformance> | undefined
  const document = () =>
    (conformance ??= steward
      .fetch(new Request('http://steward.test/openapi.json'))
      .then(async (r) => new Conformance((await r.json()) as OpenApiDocument)))
  return Object.assign(steward, {
    async api(
      method: string,
      path: string,
      body?: unknown,
      token: string | null = ADMIN_TOKEN,
      headers: Record<string, string> = {},
    ) {
      const h: Record<string, string> = { ...headers }
      if (token) h.authorization = `Bearer ${token}`
      let payload: string | Uint8Array | undefined
      if (body !== undefined) {
        payload = typeof body === 'string' || body instanceof Uint8Array ? body : JSON.stringify(body)
        h['content-type'] ??= 'application/json'
      }
      const res = await steward.fetch(
        new Request(`http://steward.test${path}`, { method, headers: h, body: payload }),
      )
      await (await document()).check(method, path, res)
      return res
    },
  })
}
