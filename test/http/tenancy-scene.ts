// The Steward the authorization sweep and the fuzz test call: two customers, A and B, a token of
// each, and one of every resource a route can name for B (a token, contacts, a plan version, a
// maintenance window, a queued run and its job, a dead-lettered job, an open incident, a silence
// and a closed SLA credit), plus the same kinds for A where a route needs one of its own.
// Nothing moves by itself: no workers, no heartbeats, no relay, no scheduler, so any row that
// changes was changed by a request.
import { expect } from 'vitest'
import { ingestConfigSchema } from '../../src/ingest/config.ts'
import { slaConfigSchema } from '../../src/sla/config.ts'
import { startTestSteward, type TestSteward } from './../helpers/app.ts'
import {
  evaluateAt,
  insertEvents,
  runs,
  testEpoch,
  testIncidentsConfig,
  waitFor,
} from '../incidents/support.ts'
import { fastConfig } from '../orchestrator/helpers.ts'
import { heartbeats, insertEvents as insertGolden, parseMonth, range } from '../sla/golden.ts'

/** Identifiers of one customer's resources (strings as the routes take them). */
export interface TenantIds {
  customerId: string
  name: string
  token: string
  tokenId: string
  runId: string
  jobId: string
  deadJobId: string
  incidentId: string
  creditId: string
  contactEmail: string
  projectId: string
  /** The monthly fee of its plan: a figure no other customer's record shows. */
  planFee: string
}

export interface TenancyScene {
  s: TestSteward
  a: TenantIds
  b: TenantIds
  silenceId: string
  maintenanceId: string
}

// biome-ignore lint/suspicious/noExplicitAny: response bodies are read loosely
type Json = any
const json = async (res: Response, status: number): Promise<Json> => {
  const body = await res.json()
  expect(res.status, JSON.stringify(body)).toBe(status)
  return body
}

const SEPTEMBER = parseMonth('2025-09')

async function tenant(
  s: TestSteward,
  customerId: string,
  name: string,
  planFee: string,
  t0: Date,
): Promise<TenantIds> {
  const projectId = `${customerId}-project`
  const contactEmail = `ops@${customerId}.example`
  await json(
    await s.api('POST', '/v1/customers', { id: customerId, name, since: '2025-01-01T00:00:00Z' }),
    201,
  )
  const issued = await json(await s.api('POST', `/v1/customers/${customerId}/tokens`, { name: 'ci' }), 201)
  await json(
    await s.api('PUT', `/v1/customers/${customerId}/contacts`, {
      contacts: [{ email: contactEmail, name: `${name} operations` }],
    }),
    200,
  )
  await json(
    await s.api('POST', `/v1/sla/plans/${customerId}`, {
      plan: { uptimeTarget: 99.5, monthlyFee: Number(planFee) },
      effectiveFrom: '2025-01',
    }),
    201,
  )
  const submit = async () =>
    (
      await json(
        await s.api(
          'POST',
          '/v1/runs',
          { customerId, projectId, type: 'build', steps: [{ key: 'only', kind: 'noop' }] },
          issued.token,
        ),
        201,
      )
    ).id as string
  const runId = await submit()
  const deadRunId = await submit()
  const job = async (run: string) =>
    (await s.deps.pool.query<{ id: string }>('SELECT id FROM jobs WHERE run_id = $1', [run])).rows[0]!.id
  await s.deps.pool.query(
    `UPDATE jobs SET status = 'dead', dead_lettered_at = now(), last_error = 'boom' WHERE run_id = $1`,
    [deadRunId],
  )
  await s.deps.pool.query(`UPDATE runs SET status = 'failed' WHERE id = $1`, [deadRunId])
  // Three quarters of its runs failing in the minutes before t0: an incident scoped to it.
  await insertEvents(s.deps.clickhouse!, runs(customerId, t0, 40, 30, 4 * 60_000))
  return {
    customerId,
    name,
    token: issued.token,
    tokenId: String(issued.id),
    runId,
    jobId: await job(runId),
    deadJobId: await job(deadRunId),
    incidentId: '',
    creditId: '',
    contactEmail,
    projectId,
    planFee,
  }
}

export async function startTenancyScene(): Promise<TenancyScene> {
  const s = await startTestSteward({
    file: {
      orchestrator: fastConfig({ workers: 0 }),
      ingest: ingestConfigSchema.parse({ heartbeatIntervalMs: 0, relay: { enabled: false } }),
      incidents: testIncidentsConfig(),
      sla: slaConfigSchema.parse({ defaultPlan: { monthlyFee: 1000 } }),
    },
  })
  const t0 = testEpoch()
  const a = await tenant(s, 'tenant-a-2c81', 'Alpha Works 2c81', '2081.37', t0)
  const b = await tenant(s, 'tenant-b-4f9d', 'Bravo Holdings 4f9d', '4917.53', t0)

  await evaluateAt(s, t0)
  const incidents = (await json(await s.api('GET', '/v1/incidents'), 200)).items as Json[]
  for (const t of [a, b]) t.incidentId = incidents.find((i) => i.scope === `customer:${t.customerId}`)!.id

  // September 2025: 44 down minutes for everyone, closed: a credit for each customer.
  await insertGolden(s.deps.clickhouse!, heartbeats(SEPTEMBER, new Set(range(60, 44))))
  await json(await s.api('POST', '/v1/sla/close?month=2025-09'), 200)
  const credits = await s.deps.pool.query<{ id: string; customer_id: string }>(
    `SELECT id::text, customer_id FROM sla_credits WHERE month = '2025-09-01'`,
  )
  for (const t of [a, b]) t.creditId = credits.rows.find((r) => r.customer_id === t.customerId)!.id

  const maintenance = await json(
    await s.api('POST', '/v1/sla/maintenance', {
      start: '2025-09-04T01:00:00Z',
      end: '2025-09-04T02:00:00Z',
      reason: `database upgrade for ${b.name}`,
      customerId: b.customerId,
      // Declared after the fact: an audited adjustment.
      adjustment: { reason: 'declared late for the scene' },
    }),
    201,
  )
  const silence = await json(
    await s.api('POST', '/v1/incident-silences', {
      scope: `customer:${b.customerId}`,
      endsAt: new Date(Date.now() + 86_400_000).toISOString(),
      reason: `migration of ${b.name}`,
    }),
    201,
  )
  const scene = { s, a, b, silenceId: String(silence.id), maintenanceId: String(maintenance.id) }
  await settle(s)
  return scene
}

/**
 * Waits until the delivery loop has claimed every queued customer notice (a claim inserts its
 * deliveries); after that it only moves the state of existing deliveries, which `tableDigests`
 * and `watchRowChanges` leave out, as they leave out the tables written on the instance's clock.
 */
export async function settle(s: TestSteward): Promise<void> {
  await waitFor(async () => {
    const { rows } = await s.deps.pool.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM customer_notifications WHERE claimed_at IS NULL',
    )
    return rows[0]!.n === 0
  }, 'the delivery loop to claim every notice')
}

/** Columns only the delivery loop writes, after a request queued their row. */
const LOOP_STATE: Record<string, string[]> = {
  incident_deliveries: ['status', 'attempts', 'next_attempt_at', 'last_status', 'last_error', 'finished_at'],
}

/**
 * Tables the instance writes on its own clock, whatever requests come: the SLA witness beats
 * (sla_witness), with a queue sample each beat (sla_queue_samples), whose queue figures record a
 * changed autoscaling recommendation (pool_scaling).
 */
const CLOCK_TABLES = ['sla_witness', 'sla_queue_samples', 'pool_scaling']

/**
 * Every table of the database with its row count and a digest of its rows (but the clock tables
 * and the delivery loop's state columns): equal snapshots mean no request inserted, updated or
 * deleted a row in between.
 */
export async function tableDigests(s: TestSteward): Promise<Record<string, string>> {
  const { rows: columns } = await s.deps.pool.query<{ table_name: string; column_name: string }>(
    `SELECT c.table_name, c.column_name FROM information_schema.columns c
       JOIN information_schema.tables t USING (table_schema, table_name)
      WHERE c.table_schema = current_schema() AND t.table_type = 'BASE TABLE'
      ORDER BY c.table_name, c.ordinal_position`,
  )
  const tables = new Map<string, string[]>()
  for (const c of columns) {
    if (CLOCK_TABLES.includes(c.table_name) || LOOP_STATE[c.table_name]?.includes(c.column_name)) continue
    tables.set(c.table_name, [...(tables.get(c.table_name) ?? []), c.column_name])
  }
  const id = (name: string) => `"${name.replaceAll('"', '""')}"`
  const sql = [...tables]
    .map(
      ([table, cols]) =>
        `SELECT '${table}' AS name, count(*)::text || ':' || md5(coalesce(string_agg(r::text, '|' ORDER BY r::text), '')) AS digest
           FROM (SELECT ${cols.map(id).join(', ')} FROM ${id(table)}) r`,
    )
    .join(' UNION ALL ')
  const { rows } = await s.deps.pool.query<{ name: string; digest: string }>(sql)
  return Object.fromEntries(rows.map((r) => [r.name, r.digest]))
}

/**
 * Counts every row each request inserts, updates or deletes, per table and operation, from here
 * on: a row trigger on every table (but the clock tables and the delivery loop's state columns)
 * adds to a counter in the same transaction, so a change rolled back is not counted. Cheaper than
 * a digest of every table, for checking thousands of requests. Returns the counters' reading.
 */
export async function watchRowChanges(s: TestSteward): Promise<() => Promise<Record<string, number>>> {
  const { rows: columns } = await s.deps.pool.query<{ table_name: string; column_name: string }>(
    `SELECT c.table_name, c.column_name FROM information_schema.columns c
       JOIN information_schema.tables t USING (table_schema, table_name)
      WHERE c.table_schema = current_schema() AND t.table_type = 'BASE TABLE'
      ORDER BY c.table_name, c.ordinal_position`,
  )
  await s.deps.pool.query(`
    CREATE TABLE test_row_changes (tbl text, op text, n bigint NOT NULL, PRIMARY KEY (tbl, op));
    CREATE FUNCTION test_count_change() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      INSERT INTO test_row_changes VALUES (TG_TABLE_NAME, TG_OP, 1)
        ON CONFLICT (tbl, op) DO UPDATE SET n = test_row_changes.n + 1;
      RETURN NULL;
    END $$;`)
  const tables = new Map<string, string[]>()
  for (const c of columns)
    if (!CLOCK_TABLES.includes(c.table_name))
      tables.set(c.table_name, [...(tables.get(c.table_name) ?? []), c.column_name])
  const id = (name: string) => `"${name.replaceAll('"', '""')}"`
  for (const [table, cols] of tables) {
    const watched = cols.filter((c) => !LOOP_STATE[table]?.includes(c))
    const update = LOOP_STATE[table] ? `UPDATE OF ${watched.map(id).join(', ')}` : 'UPDATE'
    await s.deps.pool.query(
      `CREATE TRIGGER test_count_change AFTER INSERT OR DELETE OR ${update} ON ${id(table)}
         FOR EACH ROW EXECUTE FUNCTION test_count_change();
       CREATE TRIGGER test_count_truncate AFTER TRUNCATE ON ${id(table)}
         FOR EACH STATEMENT EXECUTE FUNCTION test_count_change()`,
    )
  }
  return async () => {
    const { rows } = await s.deps.pool.query<{ key: string; n: string }>(
      `SELECT tbl || ' ' || op AS key, n FROM test_row_changes ORDER BY 1`,
    )
    return Object.fromEntries(rows.map((r) => [r.key, Number(r.n)]))
  }
}
