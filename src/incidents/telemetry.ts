// What incidents read from ClickHouse besides the detection rules (rules.ts): the customers of a
// worker pool, and a report's impact figures (runs per customer, the factory's down minutes).
import type { ClickHouseClient } from '../db/clickhouse.ts'
import { chQuery } from '../db/clickhouse.ts'
import { chTime } from '../ingest/index.ts'
import type { CustomerImpact } from './schemas.ts'

const SQL = {
  // Customers whose jobs ran in the pool over the last day.
  poolCustomers: `
    SELECT DISTINCT customer_id FROM jobs_1h
    WHERE pool = {pool:String} AND customer_id != '' AND hour >= toStartOfHour({at:DateTime('UTC')}) - INTERVAL 1 DAY
    ORDER BY customer_id`,
  runImpact: `
    SELECT customer_id,
           countIf(action = 'failed' AND ts >= {from:DateTime64(3, 'UTC')}) AS failed,
           countIf(ts >= {from:DateTime64(3, 'UTC')}) AS finished,
           count() AS month,
           toString(minIf(ts, action = 'failed' AND ts > {opened:DateTime64(3, 'UTC')} - INTERVAL 1 HOUR
                               AND ts <= {opened:DateTime64(3, 'UTC')})) AS first_failed
    FROM events FINAL
    WHERE type = 'run' AND action IN ('succeeded', 'failed') AND customer_id IN {customers:Array(String)}
      AND ts > {to:DateTime64(3, 'UTC')} - INTERVAL 30 DAY AND ts <= {to:DateTime64(3, 'UTC')}
    GROUP BY customer_id`,
  factoryMinutes: `
    SELECT count() AS judged, countIf(h > 0) AS up FROM (
      SELECT minute, sum(healthy) AS h FROM signals_1m
      WHERE customer_id = '' AND ((source = 'heartbeat' AND component = 'control_plane') OR source = 'probe')
        AND minute >= toStartOfMinute({from:DateTime64(3, 'UTC')}) AND minute < {to:DateTime64(3, 'UTC')}
      GROUP BY minute)`,
}

/** Customers whose jobs ran in `pool` during the day before `at`. */
export async function poolCustomers(clickhouse: ClickHouseClient, pool: string, at: Date): Promise<string[]> {
  const rows = await chQuery<{ customer_id: string }>(clickhouse, SQL.poolCustomers, {
    pool,
    at: Math.floor(at.getTime() / 1000),
  })
  return rows.map((r) => r.customer_id)
}

/**
 * Per customer: failed and finished runs from `from` to `end`, and the share of the 30-day budget;
 * and the first failed run in the hour before `opened`.
 */
export async function runImpact(
  clickhouse: ClickHouseClient,
  customers: string[],
  from: Date,
  opened: Date,
  end: Date,
  slo: number,
): Promise<{ impact: CustomerImpact[]; firstFailureAt: string | null }> {
  const rows = await chQuery<{
    customer_id: string
    failed: number
    finished: number
    month: number
    first_failed: string
  }>(clickhouse, SQL.runImpact, {
    from: chTime(from.toISOString()),
    opened: chTime(opened.toISOString()),
    to: chTime(end.toISOString()),
    customers,
  })
  const byId = new Map(rows.map((r) => [r.customer_id, r]))
  const firsts = rows
    .map((r) => r.first_failed)
    .filter((t) => t && !t.startsWith('1970'))
    .map((t) => new Date(`${t.replace(' ', 'T')}Z`).getTime())
  return {
    impact: customers.map((customerId) => {
      const r = byId.get(customerId)
      const budget = r ? Number(r.month) * (1 - slo) : 0
      return {
        customerId,
        failedRuns: Number(r?.failed ?? 0),
        finishedRuns: Number(r?.finished ?? 0),
        successBudgetConsumed: budget > 0 ? Number(r?.failed ?? 0) / budget : null,
      }
    }),
    firstFailureAt: firsts.length ? new Date(Math.min(...firsts)).toISOString() : null,
  }
}

/** Minutes of the window the factory was down (no healthy heartbeat or probe); null without any signal. */
export async function factoryDownMinutes(
  clickhouse: ClickHouseClient,
  from: Date,
  end: Date,
): Promise<number | null> {
  const [row] = await chQuery<{ judged: number; up: number }>(clickhouse, SQL.factoryMinutes, {
    from: chTime(from.toISOString()),
    to: chTime(end.toISOString()),
  })
  // Minutes without any signal inside the window count as down, as the uptime SLO does.
  const windowMinutes = Math.ceil((end.getTime() - from.getTime()) / 60_000)
  return Number(row?.judged ?? 0) > 0 ? Math.max(0, windowMinutes - Number(row?.up ?? 0)) : null
}
