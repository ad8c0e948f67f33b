// One detection run: evaluate every rule as of `now`, then move each (rule, scope) through the
// lifecycle. Runs under the scheduler (once per tick across instances), so evaluations never race.
//
// Hysteresis: an incident opens after `openAfterEvaluations` firing evaluations in a row, and
// resolves only once its condition has been clear for `resolveAfterMinutes` — a signal that flaps
// faster than that keeps one incident open instead of opening and closing one every minute. After
// a resolution, the same (rule, scope) opens again only after `reopenCooldownMinutes`.
import type { Pool } from '../db/postgres.ts'
import { transaction } from '../db/postgres.ts'
import type { IncidentsConfig } from './config.ts'
import { type LifecycleContext, nowClear, openIncident, stillFiring } from './lifecycle.ts'
import { type Finding, type RuleResult, type RuleSources, runRules } from './rules.ts'
import { type IncidentRow, SQL } from './store.ts'

export interface EvaluationSummary {
  rules: { rule: string; ok: boolean; error?: string; firing: string[] }[]
  opened: string[]
  resolved: string[]
  /** Scopes whose lifecycle step failed this time (retried on the next evaluation). */
  errors: string[]
}

async function applyFinding(
  pool: Pool,
  rule: string,
  f: Finding,
  now: Date,
  cfg: IncidentsConfig,
  ctx: LifecycleContext,
  out: EvaluationSummary,
): Promise<void> {
  await transaction(pool, async (db) => {
    const { rows } = await db.query<IncidentRow>(SQL.openFor, [rule, f.scope])
    if (rows[0]) return stillFiring(db, rows[0], f, now, ctx)
    const { rows: state } = await db.query<{ firing_since: Date; firing_count: number }>(
      `INSERT INTO incident_rule_state (rule, scope, firing_since, firing_count, evaluated_at)
       VALUES ($1, $2, $3, 1, $3)
       ON CONFLICT (rule, scope) DO UPDATE
         SET firing_count = incident_rule_state.firing_count + 1, evaluated_at = $3,
             firing_since = coalesce(incident_rule_state.firing_since, $3)
       RETURNING firing_since, firing_count`,
      [rule, f.scope, now],
    )
    const s = state[0]!
    if (s.firing_count < cfg.openAfterEvaluations) return
    const { rows: recent } = await db.query<{ id: string }>(
      `SELECT id FROM incidents WHERE rule = $1 AND scope = $2 AND status = 'resolved'
         AND resolved_at > $3::timestamptz - $4::float8 * interval '1 minute' LIMIT 1`,
      [rule, f.scope, now, cfg.reopenCooldownMinutes],
    )
    if (recent[0]) return // cooling down after the last resolution (see reopenCooldownMinutes)
    const opened = await openIncident(db, rule, f, s.firing_since, now, ctx)
    if (opened) out.opened.push(opened.id)
  })
}

async function applyClear(
  pool: Pool,
  rule: string,
  firingScopes: Set<string>,
  now: Date,
  cfg: IncidentsConfig,
  ctx: LifecycleContext,
  out: EvaluationSummary,
): Promise<void> {
  // A scope that stopped firing before its incident opened starts counting from zero again.
  const scopes = [...firingScopes]
  await pool.query('DELETE FROM incident_rule_state WHERE rule = $1 AND NOT (scope = ANY ($2::text[]))', [
    rule,
    scopes,
  ])
  const { rows: open } = await pool.query<{ id: string }>(
    `SELECT id FROM incidents WHERE rule = $1 AND status <> 'resolved' AND NOT (scope = ANY ($2::text[]))`,
    [rule, scopes],
  )
  for (const { id } of open) {
    await transaction(pool, async (db) => {
      const { rows } = await db.query<IncidentRow>(SQL.getForUpdate, [id])
      const row = rows[0]
      if (!row || row.status === 'resolved') return
      if (await nowClear(db, row, now, cfg.resolveAfterMinutes * 60_000, ctx)) out.resolved.push(id)
    })
  }
}

export async function evaluateOnce(
  src: RuleSources & { pool: Pool },
  cfg: IncidentsConfig,
  ctx: LifecycleContext,
  now: Date,
): Promise<EvaluationSummary> {
  const results: RuleResult[] = await runRules(src, cfg.rules, now)
  const out: EvaluationSummary = { rules: [], opened: [], resolved: [], errors: [] }
  for (const r of results) {
    out.rules.push({ rule: r.rule, ok: r.ok, error: r.error, firing: r.findings.map((f) => f.scope) })
    if (!r.ok) continue // no data is not "clear": leave this rule's incidents as they are
    // One scope's failure (a transaction error) must not stop the others; it retries next tick.
    for (const f of r.findings) {
      await applyFinding(src.pool, r.rule, f, now, cfg, ctx, out).catch((err) =>
        out.errors.push(`${r.rule}/${f.scope}: ${(err as Error).message}`),
      )
    }
    await applyClear(src.pool, r.rule, new Set(r.findings.map((f) => f.scope)), now, cfg, ctx, out).catch(
      (err) => out.errors.push(`${r.rule} (clear): ${(err as Error).message}`),
    )
  }
  return out
}
