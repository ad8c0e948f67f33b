// Attempt records. A job's running attempt is its own row in `jobs` (attempt, kind, lease_owner,
// started_at); its row in `job_attempts` is written once, when the attempt ends (succeeded,
// failed, retried, dead-lettered, released, lost, cancelled), by the statement that ends it.
//
// Why not a row at the claim, updated at the end: that is a second row version and its index
// entries for every job, and the update has to find the row again by (job_id, attempt). Written
// once, an attempt is one insert, and no plan can turn the lookup into a scan of the table (a
// statement's plan is kept per connection; made while job_attempts was nearly empty, it scanned
// the table for every job: 380 ms for 64 successes, measured on a fresh database).
//
// Readers see both: `attemptsOf` adds each running job's attempt to the ended ones. Rows with
// outcome `running` may remain from versions that wrote them at the claim; the writers below
// complete them (ON CONFLICT) and readers take the running attempt from `jobs` instead.

/**
 * Records ended attempts: `source` selects, in this order, job_id, attempt, kind, worker_id,
 * started_at, finished_at, outcome, error_class, error, duration_ms, retry_delay_ms.
 */
export const recordAttempts = (source: string) => `
  INSERT INTO job_attempts (job_id, attempt, kind, worker_id, started_at, finished_at, outcome, error_class, error,
                            duration_ms, retry_delay_ms)
  ${source}
  ON CONFLICT (job_id, attempt) DO UPDATE SET finished_at = EXCLUDED.finished_at, outcome = EXCLUDED.outcome,
    error_class = EXCLUDED.error_class, error = EXCLUDED.error, duration_ms = EXCLUDED.duration_ms,
    retry_delay_ms = EXCLUDED.retry_delay_ms`

/** The attempts, ended and running, of the jobs `j` that `where` selects, by job then attempt. */
export const attemptsOf = (where: string) => `
  SELECT a.job_id, a.attempt, a.kind, a.worker_id, a.outcome, a.error_class, a.error, a.started_at, a.finished_at,
         a.duration_ms, a.retry_delay_ms
  FROM jobs j JOIN job_attempts a ON a.job_id = j.id
  WHERE ${where} AND a.outcome <> 'running'
  UNION ALL
  SELECT j.id, j.attempt, j.kind, j.lease_owner, 'running', NULL, NULL, j.started_at, NULL, NULL, NULL
  FROM jobs j WHERE ${where} AND j.status = 'running'
  ORDER BY 1, 2`
