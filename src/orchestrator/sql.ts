// Hot statements are named: PostgreSQL parses and plans them once per connection, not per call.
import type { QueryConfig, QueryResultRow } from 'pg'
import { type Pool, type PoolClient, transaction } from '../db/postgres.ts'

export const prepared = (name: string, text: string, values: unknown[]): QueryConfig => ({
  name: `steward_orchestrator_${name}`,
  text,
  values,
})

/**
 * The attempt $3 of job $1, as worker $2 holds it. `coalesce(status, '')`: with a plain
 * `status = 'running'` the planner may read jobs_running (every running job of every pool, its key
 * not starting with the id) rather than look the id up: kept plans did (keyed-plans.test.ts).
 */
export const HELD_ATTEMPT = `id = $1 AND lease_owner = $2 AND attempt = $3 AND coalesce(status, '') = 'running'`

/**
 * Executions of a named statement, per connection, that run with sequential scans off. PostgreSQL
 * plans a named statement for each of its first five executions, then makes the generic plan it
 * keeps for the connection's life (until an ANALYZE of its tables invalidates it).
 */
const PLANNED_WITH_INDEXES = 6
const executions = new WeakMap<PoolClient, Map<string, number>>()

/**
 * Runs a named statement that is its own transaction (one round trip), on tables that may still
 * be nearly empty: a fresh database. A plan made then scans whole tables instead of looking rows
 * up by key, and keeps doing so as they grow until autovacuum's ANALYZE (measured: every claim of
 * a \`bench queue\` round read \`jobs\` and \`runs\` whole). So the first executions on each
 * connection run in a transaction with \`enable_seqscan\` off (two round trips more, six times
 * per connection): the plan kept is the one the statement gets on tables of any size.
 */
export async function runKeyed<R extends QueryResultRow>(pool: Pool, q: QueryConfig) {
  const key = q.name ?? q.text
  /** Executions of this statement on `c` so far; counts one more. */
  const count = (c: PoolClient) => {
    const seen = executions.get(c) ?? new Map<string, number>()
    executions.set(c, seen)
    const n = seen.get(key) ?? 0
    seen.set(key, n + 1)
    return n
  }
  const c = await pool.connect()
  try {
    if ((executions.get(c)?.get(key) ?? 0) >= PLANNED_WITH_INDEXES) {
      count(c)
      return await c.query<R>(q)
    }
  } finally {
    c.release()
  }
  return transaction(
    pool,
    (t) => {
      count(t)
      return t.query<R>(q)
    },
    { keyed: true },
  )
}

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
