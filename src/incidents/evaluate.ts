// One detection run: evaluate every rule as of `now`, then move each (rule, scope) through the
// lifecycle. Runs under the scheduler (once per tick across instances), so evaluations never race.
//
// Hysteresis: an incident opens after `openAfterEvaluations` firing evaluations in a row, and
// resolves only once its condition has been clear for `resolveAfterMinutes` — a signal that flaps
// faster than that keeps one incident open instead of opening and closing one every minute. After
// a resolution, the same (rule, scope) opens again only after `reopenCooldownMinutes`. SLO rules
// are the exception on the way out: their incident resolves as soon as the SLI has recovered
// (rules.ts), since that is what their customers were promised.
import type { Pool } from '../db/postgres.ts'
import { transaction } from '../db/postgres.ts'
import type { IncidentsConfig } from './config.ts'
import { type LifecycleContext, nowClear, openIncident, stillFiring } from './lifecycle.ts'
import { countFiring, forgetOtherScopes } from './rule-state.ts'
import { type Finding, type RuleResult, type RuleSources, runRules } from './rules.ts'
import { lockIncident, lockOpenIncident, openOutside, resolvedWithin } from './store.ts'

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
    const open = await lockOpenIncident(db, rule, f.scope)
    if (open) return stillFiring(db, open, f, now, ctx)
    const state = await countFiring(db, rule, f.scope, now)
    if (state.firingCount < cfg.openAfterEvaluations) return
    // Cooling down after the last resolution (see reopenCooldownMinutes).
    if (await resolvedWithin(db, rule, f.scope, now, cfg.reopenCooldownMinutes)) return
    const opened = await openIncident(db, rule, f, state.firingSince, now, ctx)
    if (opened) out.opened.push(opened.id)
  })
}

async function applyClear(
  pool: Pool,
  rule: string,
  firingScopes: Set<string>,
  now: Date,
  resolveAfterMs: number,
  ctx: LifecycleContext,
  out: EvaluationSummary,
): Promise<void> {
  // A scope that stopped firing before its incident opened starts counting from zero again.
  const scopes = [...firingScopes]
  await forgetOtherScopes(pool, rule, scopes)
  for (const id of await openOutside(pool, rule, scopes)) {
    await transaction(pool, async (db) => {
      const i = await lockIncident(db, id)
      if (!i || i.status === 'resolved') return
      if (await nowClear(db, i, now, resolveAfterMs, ctx)) out.resolved.push(id)
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
    const resolveAfterMs = r.resolvesOnRecovery ? 0 : cfg.resolveAfterMinutes * 60_000
    await applyClear(
      src.pool,
      r.rule,
      new Set(r.findings.map((f) => f.scope)),
      now,
      resolveAfterMs,
      ctx,
      out,
    ).catch((err) => out.errors.push(`${r.rule} (clear): ${(err as Error).message}`))
  }
  return out
}
