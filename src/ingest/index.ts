// The ingest module: see docs/architecture.md. Other modules import only from this file.
import type { AppDeps, StewardModule } from '../module.ts'

export function createIngest(_deps: AppDeps): StewardModule {
  return { name: 'ingest' }
}

export * from './events.ts'
export { appendEvents, type NewEvent, type OutboxLag, outboxLag } from './outbox.ts'
export { chTime, type EventRow, toRow } from './rows.ts'
