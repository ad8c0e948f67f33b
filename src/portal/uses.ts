// What the portal reads of the lower modules: the services the composition root hands it.
import type { BudgetsModule } from '../budgets/index.ts'
import type { TokenResolver } from '../http/auth.ts'
import type { IncidentsModule } from '../incidents/index.ts'
import type { OrchestratorModule } from '../orchestrator/index.ts'
import type { SlaModule } from '../sla/index.ts'
import type { StatusModule } from '../status/index.ts'
import type { TenantsModule } from '../tenants/index.ts'

export interface PortalUses {
  /** Customer names (the page's title; scrubbing others' out) and whether a token still holds. */
  tenants: Pick<TenantsModule, 'customers' | 'tokenActive'>
  /** Sign-in: a presented API token to its customer (the admin token is not among them). */
  resolveToken: TokenResolver
  orchestrator: Pick<OrchestratorModule, 'customerRuns' | 'customerPools' | 'resumeRun'>
  sla: Pick<SlaModule, 'customerStatus' | 'creditHistory' | 'creditReport'>
  /** The customer's budgets this month (spending section). */
  budgets: Pick<BudgetsModule, 'status'>
  incidents: Pick<IncidentsModule, 'customerIncidents'>
  /** The public status page's snapshot: the live state of the shared components. */
  status: Pick<StatusModule, 'snapshot'>
  /** Where this Steward answers publicly (STEWARD_URL): an accepted Origin, and https-ness. */
  publicUrl: string
}
