// A run's start and finish rewrite its row in place (a heap-only update, when the page has room):
// no index of `runs` may read a column they write, in its key or its predicate. Each such index
// would cost every run an entry in all five indexes when it starts or finishes (migrations 085, 089).
import { describe, expect, it } from 'vitest'
import type { Pool } from '../../src/db/postgres.ts'
import { acmeDatabase } from './helpers.ts'

let pool: Pool
acmeDatabase((p) => {
  pool = p
})

/** What the claim (start), the success statement and settling (finish) write on a run. */
const WRITTEN = ['status', 'started_at', 'finished_at', 'jobs_succeeded', 'jobs_failed', 'error_class']

describe('runs indexes', () => {
  it('read no column a run start or finish writes', async () => {
    const { rows } = await pool.query<{ index: string; columns: string[] }>(
      `SELECT i.indexrelid::regclass::text AS index,
              array(SELECT a.attname::text FROM pg_attribute a
                    WHERE a.attrelid = i.indrelid AND a.attnum > 0 AND (
                      a.attnum = ANY (i.indkey::int2[])
                      OR pg_get_expr(i.indpred, i.indrelid) ~ ('\\m' || a.attname || '\\M')
                      OR pg_get_expr(i.indexprs, i.indrelid) ~ ('\\m' || a.attname || '\\M'))) AS columns
       FROM pg_index i WHERE i.indrelid = 'runs'::regclass`,
    )
    expect(rows.length).toBeGreaterThanOrEqual(4)
    const offending = rows.filter((r) => r.columns.some((c) => WRITTEN.includes(c)))
    expect(offending).toEqual([])
  })

  it('give job_attempts (job_id, attempt) as its primary key', async () => {
    const { rows } = await pool.query<{ def: string }>(
      `SELECT pg_get_constraintdef(oid) AS def FROM pg_constraint WHERE conrelid = 'job_attempts'::regclass AND contype = 'p'`,
    )
    expect(rows.map((r) => r.def)).toEqual(['PRIMARY KEY (job_id, attempt)'])
  })
})
