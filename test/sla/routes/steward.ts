// The Steward the /v1/sla route tests call: customers acme and globex (since January 2025), a
// customer token of acme, and September 2025's telemetry: 44 down minutes for everyone, and 400
// more for globex, whose own probe fails.
import { expect } from 'vitest'
import type { FileConfigInput } from '../../../src/server/index.ts'
import { slaConfigSchema } from '../../../src/sla/config.ts'
import { startTestSteward, type TestSteward } from '../../helpers/app.ts'
import { heartbeats, insertEvents, parseMonth, range } from '../golden.ts'

const sept = parseMonth('2025-09')

// biome-ignore lint/suspicious/noExplicitAny: response bodies are read loosely; their shape is what is asserted
export type Json = any
export const json = async (res: Response) => (await res.json()) as Json

export async function startSlaSteward(opts: { listen?: boolean; file?: FileConfigInput } = {}): Promise<{
  s: TestSteward
  acmeToken: string
}> {
  const s = await startTestSteward({
    listen: opts.listen ?? false,
    file: { sla: slaConfigSchema.parse({ defaultPlan: { monthlyFee: 1000 } }), ...opts.file },
  })
  for (const id of ['acme', 'globex'])
    expect((await s.api('POST', '/v1/customers', { id, name: id })).status).toBe(201)
  await s.deps.pool.query(`UPDATE customers SET created_at = '2025-01-01T00:00:00Z'`)
  const acmeToken = (
    (await (await s.api('POST', '/v1/customers/acme/tokens', {})).json()) as { token: string }
  ).token
  // September 2025: 44 down minutes for everyone; globex's own probe fails for 400 more minutes.
  const events = heartbeats(sept, new Set(range(60, 44)))
  for (const m of range(2000, 400)) {
    events.push({
      type: 'probe',
      customerId: 'globex',
      ts: new Date(sept.start.getTime() + m * 60_000 + 1000).toISOString(),
      target: 'globex-api',
      ok: false,
      latencyMs: 9000,
    })
  }
  await insertEvents(s.deps.clickhouse!, events)
  return { s, acmeToken }
}
