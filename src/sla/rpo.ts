// RPO from samples the refresh job takes: PostgreSQL replication lag per replica (the run state's
// recovery point). A sample that measured nothing — no replica at all, or a replica that reports
// no lag — is recorded as unmeasured (NULL), never as 0, and a month without a measured sample is
// "unmeasured", never "met". The telemetry pipeline's lag (age of the oldest event not yet in
// ClickHouse) is sampled alongside and reported apart, as telemetry freshness.
import type { Queryable } from '../db/postgres.ts'
import { outboxLag } from '../ingest/index.ts'
import type { Month } from './months.ts'
import { percentOf } from './months.ts'
import type { RpoFigures, TelemetryFreshness } from './schemas/figures.ts'

const SQL = {
  replicationLag: `
    SELECT coalesce(nullif(application_name, ''), client_addr::text, 'replica') AS name,
           extract(epoch FROM coalesce(replay_lag, write_lag))::float8 AS lag
    FROM pg_stat_replication`,
  recordSamples: `
    INSERT INTO sla_rpo_samples (sampled_at, source, lag_seconds)
    SELECT $1, s, l FROM unnest($2::text[], $3::float8[]) AS x(s, l)
    ON CONFLICT (source, sampled_at) DO NOTHING`,
  rpoOfMonth: `
    SELECT source, count(*)::int AS n, count(lag_seconds)::int AS measured,
           count(*) FILTER (WHERE lag_seconds <= $3)::int AS within, max(lag_seconds) AS worst
    FROM sla_rpo_samples WHERE sampled_at >= $1 AND sampled_at < $2 GROUP BY source ORDER BY source`,
}

/** The telemetry pipeline's sample source (reported as freshness, not RPO). */
const TELEMETRY = 'telemetry'
/** The sample taken when there is no replica: the run state's RPO cannot be measured. */
const NO_REPLICA = 'postgres'

export interface RpoSample {
  source: string
  /** null: nothing measured. */
  lagSeconds: number | null
}

/** Current samples: one per replica (or one unmeasured without any) and one for the telemetry pipeline. */
export async function currentRpo(db: Queryable): Promise<RpoSample[]> {
  const replicas = await db
    .query<{ name: string; lag: number | null }>(SQL.replicationLag)
    .catch(() => ({ rows: [] as { name: string; lag: number | null }[] }))
  const samples: RpoSample[] = replicas.rows.length
    ? replicas.rows.map((r) => ({ source: `postgres:${r.name}`, lagSeconds: r.lag }))
    : [{ source: NO_REPLICA, lagSeconds: null }]
  samples.push({ source: TELEMETRY, lagSeconds: (await outboxLag(db)).oldestAgeSeconds })
  return samples
}

export async function recordRpoSamples(db: Queryable, at: Date, samples: RpoSample[]): Promise<void> {
  await db.query(SQL.recordSamples, [at, samples.map((s) => s.source), samples.map((s) => s.lagSeconds)])
}

interface Row {
  source: string
  n: number
  measured: number
  within: number
  worst: number | null
}

const rpoOf = (r: Row, targetSeconds: number): RpoFigures => {
  const status = r.measured === 0 ? 'unmeasured' : r.within === r.measured ? 'met' : 'missed'
  return {
    source: r.source,
    targetSeconds,
    samples: r.n,
    measuredSamples: r.measured,
    withinTarget: r.within,
    worstSeconds: r.worst,
    compliancePercent: r.measured ? percentOf(r.within, r.measured) : null,
    status,
    met: status === 'unmeasured' ? null : status === 'met',
  }
}

/** The month's RPO per source (unmeasured when nothing was), and the telemetry pipeline's freshness. */
export async function loadRpoFigures(
  db: Queryable,
  targetSeconds: number,
  month: Month,
): Promise<{ rpo: RpoFigures[]; telemetryFreshness: TelemetryFreshness }> {
  const { rows } = await db.query<Row>(SQL.rpoOfMonth, [month.start, month.end, targetSeconds])
  const state = rows.filter((r) => r.source !== TELEMETRY).map((r) => rpoOf(r, targetSeconds))
  const t = rows.find((r) => r.source === TELEMETRY)
  return {
    rpo: state.length
      ? state
      : [rpoOf({ source: NO_REPLICA, n: 0, measured: 0, within: 0, worst: null }, targetSeconds)],
    telemetryFreshness: {
      targetSeconds,
      samples: t?.n ?? 0,
      withinTarget: t?.within ?? 0,
      worstSeconds: t?.worst ?? null,
      compliancePercent: t?.n ? percentOf(t.within, t.n) : null,
    },
  }
}
