// The current dead-letter queue size, from the orchestrator when it exports getDlqSize (null when
// it does not: the month's dead-lettered jobs from telemetry are in the job figures either way).
import type { Queryable } from '../db/postgres.ts'
import * as orchestrator from '../orchestrator/index.ts'

type DlqSize = (db: Queryable, customerId?: string) => Promise<number>

export async function currentDlqSize(db: Queryable, customerId?: string): Promise<number | null> {
  const fn = (orchestrator as Record<string, unknown>).getDlqSize as DlqSize | undefined
  if (typeof fn !== 'function') return null
  try {
    return await fn(db, customerId)
  } catch {
    return null
  }
}
