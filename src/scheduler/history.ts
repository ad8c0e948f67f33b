// The scheduler's run records (`scheduled_runs`) are history like any other: pruned by age.
//
// Guarantees: each job's latest successful run is always kept, whatever its age (the catch-up on
// start looks for a success since the job's latest due tick, up to 45 days back for a monthly
// job); other rows go once their tick is older than the cut-off, a slice per statement.
import type { Queryable } from '../db/postgres.ts'

const SQL = {
  prune: `
  DELETE FROM scheduled_runs WHERE id IN (
    SELECT s.id FROM scheduled_runs s
    WHERE s.scheduled_for < $1
      AND s.id IS DISTINCT FROM (SELECT l.id FROM scheduled_runs l WHERE l.job = s.job AND l.outcome = 'succeeded'
                   ORDER BY l.scheduled_for DESC LIMIT 1)
    LIMIT $2)`,
}

/** Deletes run records of ticks before `before` in slices of `slice`; returns how many went. */
export async function pruneScheduledRuns(db: Queryable, before: Date, slice: number): Promise<number> {
  let total = 0
  for (;;) {
    const { rowCount } = await db.query(SQL.prune, [before, slice])
    total += rowCount ?? 0
    if ((rowCount ?? 0) < slice) return total
  }
}
