// What the status module reads of the lower modules: the services the composition root hands it.
import type { IncidentsModule } from '../incidents/index.ts'
import type { IngestModule } from '../ingest/index.ts'
import type { OrchestratorModule } from '../orchestrator/index.ts'
import type { SlaModule } from '../sla/index.ts'
import type { TenantsModule } from '../tenants/index.ts'

export interface StatusUses {
  /** Only to scrub customers' names and ids out of public text. */
  tenants: Pick<TenantsModule, 'customers'>
  orchestrator: Pick<OrchestratorModule, 'queueStats' | 'defaultPool'>
  ingest: Pick<IngestModule, 'outboxLag' | 'deadEventsSince'>
  sla: Pick<SlaModule, 'factoryUptime' | 'uptimeTarget'>
  incidents: Pick<IncidentsModule, 'publicIncidents' | 'pagingHealth' | 'limits'>
  /** Where this Steward answers: the feed's id and links. */
  baseUrl: string
}
