// Where the demo runs: against the Steward answering at STEWARD_URL, or an embedded one it starts
// (with a PagerDuty stand-in, a customer-webhook receiver and demo prices), never both: two
// processes must not open the same chDB directory.
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { freePort } from '../db/postgres.ts'
import { type ApiClient, apiClient, findRunningSteward } from '../http/client.ts'
import { type PagerDutyStandIn, startPagerDutyStandIn } from '../incidents/index.ts'
import { createLogger } from '../log.ts'
import type { Config } from '../server/index.ts'
import { type Steward, startSteward } from '../server/index.ts'
import { RUN_TYPES } from './history.ts'

export interface WebhookReceiver {
  url: string
  received: { customerId: string; kind: string }[]
  close(): Promise<void>
}

export interface DemoTarget {
  api: ApiClient
  /** Set when the demo started Steward itself. */
  steward?: Steward
  pagerduty?: PagerDutyStandIn
  webhooks?: WebhookReceiver
  /** PostgreSQL a `steward worker` child process can use (embedded mode only). */
  databaseUrl?: string
  /** Orchestrator settings a child worker must share with serve. */
  workerConfig: Record<string, unknown>
  close(): Promise<void>
}

/** Timings short enough for a demo: a killed worker's job is reclaimed within seconds. */
export const demoOrchestrator = {
  workers: 2,
  concurrency: 8,
  kindPools: { sleep: 'batch' },
  leaseMs: 3_000,
  heartbeatMs: 1_000,
  reclaimEveryMs: 1_000,
  pollMs: 500,
  retry: { backoffMs: 200, maxBackoffMs: 2_000 },
}

/** Demo list prices (per million tokens; per worker-second), effective since 2020. */
export const demoPrices = {
  currency: 'USD',
  models: [
    {
      model: RUN_TYPES.codegen!.model,
      effectiveFrom: '2020-01-01',
      inputPerMillion: 3,
      outputPerMillion: 15,
    },
    {
      model: RUN_TYPES.review!.model,
      effectiveFrom: '2020-01-01',
      inputPerMillion: 0.15,
      outputPerMillion: 0.6,
    },
    {
      model: RUN_TYPES.migration!.model,
      effectiveFrom: '2020-01-01',
      inputPerMillion: 0.9,
      outputPerMillion: 0.9,
    },
  ],
  pools: [
    { pool: 'default', effectiveFrom: '2020-01-01', perWorkerSecond: 0.0004 },
    { pool: 'gpu', effectiveFrom: '2020-01-01', perWorkerSecond: 0.003 },
    { pool: 'batch', effectiveFrom: '2020-01-01', perWorkerSecond: 0.0002 },
  ],
  fixed: [],
  allocation: 'equal' as const,
}

async function startWebhookReceiver(): Promise<WebhookReceiver> {
  const received: WebhookReceiver['received'] = []
  const server: Server = createServer((req, res) => {
    let body = ''
    req.on('data', (d) => {
      body += d
    })
    req.on('end', () => {
      try {
        const parsed = JSON.parse(body) as { customerId?: string; kind?: string }
        received.push({ customerId: parsed.customerId ?? '', kind: parsed.kind ?? '' })
      } catch {
        received.push({ customerId: '', kind: 'unparsable' })
      }
      res.writeHead(204).end()
    })
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  const port = (server.address() as AddressInfo).port
  return {
    url: `http://127.0.0.1:${port}/steward-webhook`,
    received,
    close: () => new Promise<void>((r) => server.close(() => r())),
  }
}

export async function connectOrStart(
  config: Config,
  opts: { forceEmbedded?: boolean; log: (line: string) => void },
): Promise<DemoTarget> {
  const running = opts.forceEmbedded ? undefined : await findRunningSteward(config)
  if (running) {
    opts.log(`using the Steward at ${running.url}`)
    return { api: running, workerConfig: {}, close: async () => {} }
  }
  opts.log(
    `no Steward answers at ${config.stewardUrl}: starting one on the embedded engines (${config.dataDir})`,
  )
  const pagerduty = await startPagerDutyStandIn()
  const webhooks = await startWebhookReceiver()
  const port = config.port && !opts.forceEmbedded ? config.port : await freePort()
  let steward: Steward
  try {
    steward = await startSteward({
      config: {
        ...config,
        port,
        orchestrator: {
          ...config.orchestrator,
          ...demoOrchestrator,
          retry: { ...config.orchestrator.retry, ...demoOrchestrator.retry },
        },
        // The demo closes its month itself; the scheduled close must not race it while the
        // customers are still being onboarded (it would close their month with no data yet).
        sla: { ...config.sla, firstMonth: new Date().toISOString().slice(0, 7) },
        prices: demoPrices,
        incidents: {
          ...config.incidents,
          pagerduty: { ...config.incidents.pagerduty, caFile: pagerduty.caFile },
        },
        pagerduty: { routingKey: 'demo0000000000000000000000000000', eventsHost: pagerduty.host },
        // The demo customers' webhook receiver is on loopback: allowlisted, that port only.
        egress: { ...config.egress, allowlist: [...config.egress.allowlist, new URL(webhooks.url).host] },
      },
      log: createLogger(config.logLevel === 'info' ? 'warn' : config.logLevel),
      onAdminTokenGenerated: (_token, file) => opts.log(`admin token generated and saved in ${file}`),
    })
  } catch (err) {
    await pagerduty.close()
    await webhooks.close()
    throw err
  }
  opts.log(`Steward serving on ${steward.url} (PagerDuty stand-in on https://${pagerduty.host})`)
  return {
    api: apiClient(steward.url, steward.adminToken),
    steward,
    pagerduty,
    webhooks,
    databaseUrl: steward.postgres.url,
    workerConfig: { orchestrator: demoOrchestrator },
    async close() {
      await steward.stop()
      await pagerduty.close()
      await webhooks.close()
    },
  }
}
