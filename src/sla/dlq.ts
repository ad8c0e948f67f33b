// The current dead-letter queue size, from the orchestrator (its table is the truth). The month's
// dead-lettered jobs from telemetry are in the job figures either way; a failure here (e.g. the
// orchestrator's tables not migrated in a reduced deployment) reports null rather than failing
// the whole status.
import type { Queryable } from '../db/postgres.ts'
import { getDlqSize } from '../orchestrator/index.ts'

export async function currentDlqSize(db: Queryable, customerId?: string): Promise<number | null> {
  try {
    return await getDlqSize(db, customerId)
  } catch {
    return null
  }
}
