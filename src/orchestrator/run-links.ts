// The runs and jobs the OTLP receiver links spans to (docs/telemetry.md, "Trace context"): ingest
// declares the RunLinks service, the orchestrator, which owns runs and jobs, answers it. It answers
// for every customer; the receiver checks that a run is the span's customer's before linking.
import type { Queryable } from '../db/postgres.ts'
import type { RunLink } from '../ingest/index.ts'

const SQL = {
  // The runs named, and the runs of the jobs named, with every job of each (its current attempt:
  // attempts 1..n are the spans a child span may name as its parent).
  linkRuns: `
    SELECT r.id, r.customer_id, r.project_id, r.type,
           coalesce(jsonb_agg(jsonb_build_object('jobId', j.id, 'pool', j.pool, 'attempts', j.attempt))
                    FILTER (WHERE j.id IS NOT NULL), '[]') AS jobs
    FROM runs r LEFT JOIN jobs j ON j.run_id = r.id
    WHERE r.id = ANY($1::text[]) OR r.id IN (SELECT run_id FROM jobs WHERE id = ANY($2::text[]))
    GROUP BY r.id`,
}

/** The runs `runIds` names and the runs of the jobs `jobIds` names, each with all its jobs. */
export async function runLinks(db: Queryable, q: { runIds: string[]; jobIds: string[] }): Promise<RunLink[]> {
  if (q.runIds.length === 0 && q.jobIds.length === 0) return []
  const { rows } = await db.query<{
    id: string
    customer_id: string
    project_id: string
    type: string
    jobs: RunLink['jobs']
  }>(SQL.linkRuns, [q.runIds, q.jobIds])
  return rows.map((r) => ({
    runId: r.id,
    customerId: r.customer_id,
    projectId: r.project_id,
    runType: r.type,
    jobs: r.jobs,
  }))
}
