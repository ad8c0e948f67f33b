// Hot statements are named: PostgreSQL parses and plans them once per connection, not per call.
import type { QueryConfig } from 'pg'

export const prepared = (name: string, text: string, values: unknown[]): QueryConfig => ({
  name: `steward_orchestrator_${name}`,
  text,
  values,
})
