// The composition root's wiring: every module gets the platform, its own config slice and the
// services of the lower modules it uses, in layer order (tenants, pricing, ingest → orchestrator →
// sla → budgets → incidents → status → portal). This is the only place that knows every module.

import { createBudgets } from '../budgets/index.ts'
import { createClickHouseHttp } from '../clickhouse-http/index.ts'
import { createEgress } from '../egress/index.ts'
import { createIncidents } from '../incidents/index.ts'
import { createIngest } from '../ingest/index.ts'
import type { ModuleContext, Platform, StewardModule } from '../module.ts'
import { createOrchestrator, type HandlerDefinition, type OrchestratorModule } from '../orchestrator/index.ts'
import { createPortal } from '../portal/index.ts'
import { createPricing } from '../pricing/index.ts'
import { createSla } from '../sla/index.ts'
import { createStatus } from '../status/index.ts'
import { createTenants, tokenResolver } from '../tenants/index.ts'
import type { Config } from './config.ts'

const MODULE_NAMES = [
  'tenants',
  'pricing',
  'egress',
  'ingest',
  'orchestrator',
  'sla',
  'budgets',
  'incidents',
  'status',
  'portal',
  'clickhouse-http',
] as const
export type ModuleName = (typeof MODULE_NAMES)[number]

/** What each module uses: a module can run only with these. */
const USES: Record<ModuleName, ModuleName[]> = {
  tenants: [],
  pricing: [],
  egress: [],
  ingest: ['tenants'],
  orchestrator: ['tenants', 'pricing', 'egress'],
  sla: ['tenants', 'pricing', 'orchestrator'],
  budgets: ['tenants', 'orchestrator', 'sla'],
  incidents: ['tenants', 'orchestrator', 'sla', 'egress'],
  status: ['tenants', 'ingest', 'orchestrator', 'sla', 'incidents'],
  portal: ['tenants', 'orchestrator', 'sla', 'budgets', 'incidents', 'status'],
  'clickhouse-http': [],
}

/** What the root hands the modules besides the config: the admin token, the application's job kinds. */
interface Root {
  adminToken: string
  handlers?: readonly HandlerDefinition[]
}

/** Creates the modules named in `only` (default: all), in layer order. */
export function composeModules(
  platform: Platform,
  config: Config,
  root: Root,
  only: readonly ModuleName[] = MODULE_NAMES,
): StewardModule[] {
  for (const name of only)
    for (const used of USES[name])
      if (!only.includes(used)) throw new Error(`module ${name} needs module ${used}`)
  const want = (name: ModuleName) => only.includes(name)
  const slice = <C>(c: C): ModuleContext<C> => ({ ...platform, config: c })

  const tenants = createTenants(slice(config.tenants), {})
  const pricing = createPricing(slice(config.prices), {})
  const egress = createEgress(slice(config.egress), {})
  // Ingest links OTLP spans to runs, which the orchestrator (a layer above) owns: it gets a function
  // that asks the orchestrator once it exists (spans arrive only after start-up).
  let orchestrator: OrchestratorModule | undefined
  const ingest = want('ingest')
    ? createIngest(slice(config.ingest), {
        contractStarts: tenants.contractStarts,
        runLinks: want('orchestrator') ? (q) => orchestrator!.runLinks(q) : undefined,
      })
    : undefined
  // The orchestrator keeps a run's history until its SLA month is closed. Which months are is the
  // SLA engine's knowledge, a layer above: handed down as a function, bound to sla once it exists
  // (called only by the hourly retention job). Without sla no month counts as closed: nothing goes.
  let closedUntil = (): Promise<Date | null> => Promise.resolve(null)
  orchestrator = want('orchestrator')
    ? createOrchestrator(slice(config.orchestrator), {
        tenants,
        pricing,
        egress: egress.policy,
        handlers: root.handlers,
        closedUntil: () => closedUntil(),
      })
    : undefined
  const sla =
    orchestrator && want('sla') ? createSla(slice(config.sla), { tenants, pricing, orchestrator }) : undefined
  if (sla) closedUntil = () => sla.closedUntil()
  const budgets =
    orchestrator && sla && want('budgets')
      ? createBudgets(slice(config.budgets), { tenants, sla, orchestrator })
      : undefined
  const incidents =
    orchestrator && sla && want('incidents')
      ? createIncidents(slice(config.incidents), {
          tenants,
          orchestrator,
          sla,
          paging: config.pagerduty,
          smtpUrl: config.smtpUrl,
          apiUrl: config.stewardUrl,
          egress: egress.policy,
        })
      : undefined
  const status =
    ingest && orchestrator && sla && incidents && want('status')
      ? createStatus(slice(config.status), {
          tenants,
          orchestrator,
          ingest,
          sla,
          incidents,
          baseUrl: config.incidents.links.apiUrl ?? config.stewardUrl,
        })
      : undefined
  const portal =
    orchestrator && sla && budgets && incidents && status && want('portal')
      ? createPortal(slice(config.portal), {
          tenants,
          resolveToken: tokenResolver(platform.pool),
          orchestrator,
          sla,
          budgets,
          incidents,
          status,
          publicUrl: config.stewardUrl,
        })
      : undefined
  const clickhouseHttp = want('clickhouse-http')
    ? createClickHouseHttp(slice(config.clickhouse.http), {
        // Only over the embedded store: with a ClickHouse server, Grafana should query it directly.
        embeddedPath: config.clickhouseUrl || !platform.clickhouse ? undefined : config.clickhouseDir,
        passwords: [root.adminToken, ...(config.grafanaToken ? [config.grafanaToken] : [])],
      })
    : undefined
  const built: Record<ModuleName, StewardModule | undefined> = {
    tenants,
    pricing,
    egress,
    ingest,
    orchestrator,
    sla,
    budgets,
    incidents,
    status,
    portal,
    'clickhouse-http': clickhouseHttp,
  }
  return MODULE_NAMES.filter(want).map((name) => built[name]!)
}
