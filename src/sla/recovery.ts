// RTO per recovery kind from `recovery` events (RTO = recoveredAt - detectedAt), and RPO from
// samples the refresh job takes: PostgreSQL replication lag (pg_stat_replication.replay_lag, when
// replicas exist) and the telemetry pipeline lag (age of the oldest event not yet in ClickHouse).
// A month's RPO is the worst sample and the share of samples within the target.
import type { ClickHouseClient } from '../db/clickhouse.ts'
import { chQuery } from '../db/clickhouse.ts'
import type { Queryable } from '../db/postgres.ts'
import { outboxLag, recoveryKinds } from '../ingest/index.ts'
import type { SlaConfig } from './config.ts'
import type { Month } from './months.ts'
import { percentOf } from './months.ts'
import type { RpoFigures, RtoFigures } from './schemas/figures.ts'

const SQL = {
  recoveries: `
    SELECT customer_id AS c, recovery_kind AS k, event_id AS id,
           toUnixTimestamp64Milli(detected_at) AS d, toUnixTimestamp64Milli(recovered_at) AS r
    FROM events FINAL
    WHERE type = 'recovery' AND customer_id IN {customers:Array(String)}
      AND ts >= toDateTime64({from:UInt32}, 3, 'UTC') AND ts < toDateTime64({to:UInt32}, 3, 'UTC')`,
  replicationLag: `
    SELECT coalesce(nullif(application_name, ''), client_addr::text, 'replica') AS name,
           extract(epoch FROM coalesce(replay_lag, write_lag, interval '0'))::float8 AS lag
    FROM pg_stat_replication`,
  recordSamples: `
    INSERT INTO sla_rpo_samples (sampled_at, source, lag_seconds)
    SELECT $1, s, l FROM unnest($2::text[], $3::float8[]) AS x(s, l)
    ON CONFLICT (source, sampled_at) DO NOTHING`,
  rpoOfMonth: `
    SELECT source, count(*)::bigint AS n, count(*) FILTER (WHERE lag_seconds <= $3)::bigint AS within,
           max(lag_seconds) AS worst
    FROM sla_rpo_samples WHERE sampled_at >= $1 AND sampled_at < $2 GROUP BY source ORDER BY source`,
}

/** Nearest-rank percentile of sorted values. */
function rank(sorted: number[], q: number): number | null {
  if (!sorted.length) return null
  return sorted[Math.max(0, Math.ceil(q * sorted.length) - 1)]!
}

/** Per customer: the factory's recoveries (customer '') and its own, per kind. */
export async function loadRtoFigures(
  ch: ClickHouseClient,
  targets: SlaConfig['rtoTargetsSeconds'],
  month: Month,
  until: Date,
  customerIds: string[],
): Promise<Map<string, RtoFigures[]>> {
  const rows = await chQuery<{ c: string; k: string; id: string; d: number; r: number }>(ch, SQL.recoveries, {
    from: month.start.getTime() / 1000,
    to: Math.floor(Math.min(month.end.getTime(), until.getTime()) / 1000),
    customers: ['', ...customerIds],
  })
  const figures = (customerId: string): RtoFigures[] =>
    recoveryKinds.map((kind) => {
      const target = targets[kind]
      const mine = rows
        .filter((r) => r.k === kind && (r.c === '' || r.c === customerId))
        .map((r) => ({ eventId: r.id, seconds: Math.max(0, (Number(r.r) - Number(r.d)) / 1000) }))
      const sorted = mine.map((m) => m.seconds).sort((a, b) => a - b)
      const breaches = mine.filter((m) => m.seconds > target)
      return {
        kind,
        targetSeconds: target,
        recoveries: mine.length,
        withinTarget: mine.length - breaches.length,
        worstSeconds: sorted.at(-1) ?? null,
        p50Seconds: rank(sorted, 0.5),
        p95Seconds: rank(sorted, 0.95),
        met: breaches.length === 0,
        breaches: breaches.slice(0, 100),
      }
    })
  return new Map(customerIds.map((id) => [id, figures(id)]))
}

export interface RpoSample {
  source: string
  lagSeconds: number
}

/** Current RPO inputs: one sample per replica and one for the telemetry pipeline. */
export async function currentRpo(db: Queryable): Promise<RpoSample[]> {
  const samples: RpoSample[] = []
  const replicas = await db
    .query<{ name: string; lag: number | null }>(SQL.replicationLag)
    .catch(() => ({ rows: [] as { name: string; lag: number | null }[] }))
  for (const r of replicas.rows) samples.push({ source: `postgres:${r.name}`, lagSeconds: r.lag ?? 0 })
  const lag = await outboxLag(db)
  samples.push({ source: 'telemetry', lagSeconds: lag.oldestAgeSeconds })
  return samples
}

export async function recordRpoSamples(db: Queryable, at: Date, samples: RpoSample[]): Promise<void> {
  await db.query(SQL.recordSamples, [at, samples.map((s) => s.source), samples.map((s) => s.lagSeconds)])
}

export async function loadRpoFigures(
  db: Queryable,
  targetSeconds: number,
  month: Month,
): Promise<RpoFigures[]> {
  const { rows } = await db.query<{ source: string; n: number; within: number; worst: number }>(
    SQL.rpoOfMonth,
    [month.start, month.end, targetSeconds],
  )
  return rows.map((r) => ({
    source: r.source,
    targetSeconds,
    samples: r.n,
    withinTarget: r.within,
    worstSeconds: r.worst,
    compliancePercent: percentOf(r.within, r.n),
    met: r.within === r.n,
  }))
}
