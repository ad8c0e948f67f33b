// Detection state in PostgreSQL (table `incident_rule_state`): per (rule, scope), the firing
// evaluations in a row before an incident exists — the hysteresis on open (evaluate.ts).
import type { Queryable } from '../db/postgres.ts'

const SQL = {
  fired: `INSERT INTO incident_rule_state (rule, scope, firing_since, firing_count, evaluated_at)
          VALUES ($1, $2, $3, 1, $3)
          ON CONFLICT (rule, scope) DO UPDATE
            SET firing_count = incident_rule_state.firing_count + 1, evaluated_at = $3,
                firing_since = coalesce(incident_rule_state.firing_since, $3)
          RETURNING firing_since, firing_count`,
  forgetOthers: 'DELETE FROM incident_rule_state WHERE rule = $1 AND NOT (scope = ANY ($2::text[]))',
  forget: 'DELETE FROM incident_rule_state WHERE rule = $1 AND scope = $2',
}

/** Counts one more firing evaluation of (rule, scope): since when it fires, and how many times in a row. */
export async function countFiring(
  db: Queryable,
  rule: string,
  scope: string,
  at: Date,
): Promise<{ firingSince: Date; firingCount: number }> {
  const { rows } = await db.query<{ firing_since: Date; firing_count: number }>(SQL.fired, [rule, scope, at])
  return { firingSince: rows[0]!.firing_since, firingCount: rows[0]!.firing_count }
}

/** Scopes of `rule` that stopped firing start counting from zero again. */
export async function forgetOtherScopes(db: Queryable, rule: string, firing: string[]): Promise<void> {
  await db.query(SQL.forgetOthers, [rule, firing])
}

/** Forgets (rule, scope): after a resolution, opening again needs fresh firing evaluations. */
export async function forgetScope(db: Queryable, rule: string, scope: string): Promise<void> {
  await db.query(SQL.forget, [rule, scope])
}
