// SQL fragments shared by the dashboards: variable filters (grafana-clickhouse-datasource's
// $__conditionalAll turns a filter into 1=1 when "All" is selected) and the standard variables.
import type { QueryVariable, VariableSpec } from './builder.ts'

export type Dim = 'customer' | 'project' | 'run_type' | 'pool'

const COLUMN: Record<Dim, string> = {
  customer: 'customer_id',
  project: 'project_id',
  run_type: 'run_type',
  pool: 'pool',
}

/** `AND`-joined filters on the dashboard variables for the given dimensions. */
export function filters(dims: readonly Dim[], table = ''): string {
  const prefix = table ? `${table}.` : ''
  return dims.map((d) => `$__conditionalAll(${prefix}${COLUMN[d]} IN ($${d}), $${d})`).join(' AND ')
}

/** Dimensions each table can be filtered by. */
export const RUN_DIMS: readonly Dim[] = ['customer', 'project', 'run_type']
export const JOB_DIMS: readonly Dim[] = ['customer', 'project', 'run_type', 'pool']

/** Run outcomes counted in the success rate (cancellations are the customer's choice, not failures). */
export const FINISHED = `action IN ('succeeded', 'failed')`
/** Every terminal run outcome (volume, cost per run). */
export const ENDED = `action IN ('succeeded', 'failed', 'cancelled')`
/** Job events that end an attempt in error. */
export const ATTEMPT_ERRORS = `action IN ('failed', 'retried', 'dead_lettered', 'reclaimed')`

/** Start of the UTC calendar month containing the dashboard's end time. */
export const MONTH_START = `toDateTime(toStartOfMonth(toTimeZone($__toTime, 'UTC')), 'UTC')`

/** The month (first day) containing the dashboard's end time, as sla_monthly.month. */
export const RANGE_END_MONTH = `toStartOfMonth(toTimeZone($__toTime, 'UTC'))`

/** sla_monthly rows of months that have ended (earlier rows of the current month are month-to-date). */
export const CLOSED_MONTH = `month < toStartOfMonth(toTimeZone(now(), 'UTC'))`

/** Months (a `month` column of first days: sla_monthly, cost_monthly) overlapping the dashboard range. */
export const MONTHS_IN_RANGE = `month >= toStartOfMonth(toTimeZone($__fromTime, 'UTC')) AND month <= toDate(toTimeZone($__toTime, 'UTC'))`

/** A minute is up for the factory when a healthy control-plane heartbeat or an ok probe of the
 * factory (customer '') exists in it, as the SLA engine counts it. */
export const UP_SIGNAL = `(customer_id = '' AND (source = 'probe' OR (source = 'heartbeat' AND component = 'control_plane')))`

const customer: QueryVariable = {
  kind: 'query',
  name: 'customer',
  label: 'Customer',
  sql: `SELECT DISTINCT customer_id FROM runs_1h WHERE $__timeFilter(hour) AND customer_id != '' ORDER BY customer_id`,
  allValue: '.*',
}
const project: QueryVariable = {
  kind: 'query',
  name: 'project',
  label: 'Project',
  sql: `SELECT DISTINCT project_id FROM runs_1h WHERE $__timeFilter(hour) AND project_id != '' AND ${filters(['customer'])} ORDER BY project_id`,
}
const runType: QueryVariable = {
  kind: 'query',
  name: 'run_type',
  label: 'Run type',
  sql: `SELECT DISTINCT run_type FROM runs_1h WHERE $__timeFilter(hour) AND run_type != '' AND ${filters(['customer', 'project'])} ORDER BY run_type`,
}
const pool: QueryVariable = {
  kind: 'query',
  name: 'pool',
  label: 'Pool',
  sql: `SELECT DISTINCT pool FROM jobs_1h WHERE $__timeFilter(hour) AND pool != '' ORDER BY pool`,
  allValue: '.*',
}

/** customer / project / run type / pool, on every dashboard. */
export const STANDARD_VARIABLES: readonly VariableSpec[] = [customer, project, runType, pool]

/** `pool=~"$pool"` for Prometheus selectors ("All" is `.*`). */
export const POOL_SELECTOR = 'pool=~"$pool"'
/** `customer=~"$customer"` for the SLA gauges ("All" is `.*`, which includes the factory ""). */
export const CUSTOMER_SELECTOR = 'customer=~"$customer"'
