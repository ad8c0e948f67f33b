// Hot statements are named: PostgreSQL parses and plans them once per connection, not per call.
import type { QueryConfig } from 'pg'

export const prepared = (name: string, text: string, values: unknown[]): QueryConfig => ({
  name: `steward_orchestrator_${name}`,
  text,
  values,
})

/**
 * A customer's scheduling settings (weight, per_pool, per_run) as a LATERAL subquery: its own row
 * of the tenants' `customer_scheduling`, else the defaults row '*'. Read in SQL by the claim and
 * by the explanation of a waiting job: the documented exception to reading a table only through
 * its owning module (docs/architecture.md).
 */
export const schedulingOf = (customer: string): string => `LATERAL (
      SELECT weight, per_pool, per_run FROM customer_scheduling
      WHERE customer_id IN (${customer}, '*') ORDER BY customer_id = '*' LIMIT 1
    )`
