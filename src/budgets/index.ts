// The budgets module: customers' monthly budgets on AI tokens and total cost, their thresholds,
// forecast and policy (docs/cost.md, "Budgets"). It sits above the SLA engine (what was spent)
// and acts through the orchestrator's customer controls (hold, fallback mode); notices go out
// through the notify queue. Other modules import only from this file.
import { Counter } from 'prom-client'
import { z } from 'zod'
import { defineModule, type StewardModule } from '../module.ts'
import type { OrchestratorModule } from '../orchestrator/index.ts'
import type { SlaModule } from '../sla/index.ts'
import type { TenantsModule } from '../tenants/index.ts'
import { type BudgetContext, type EvaluationSummary, evaluateBudgets } from './enforce.ts'
import { budgetRoutes, customerOf } from './routes.ts'
import type { BudgetStatus } from './schemas.ts'
import { budgetStatus } from './status.ts'

export const BUDGETS_JOB = 'budgets.evaluate'

export const budgetsConfigSchema = z
  .object({
    /** When budgets are evaluated (five-field cron, UTC): every minute by default. */
    evaluateCron: z.string().default('* * * * *'),
  })
  .strict()
  .prefault({})

export interface BudgetsUses {
  tenants: Pick<TenantsModule, 'customers'>
  sla: Pick<SlaModule, 'spendSoFar'>
  orchestrator: Pick<OrchestratorModule, 'setCustomerControl'>
}

export interface BudgetsModule extends StewardModule {
  /** Evaluates every budget as of `now` (the scheduled job does this each minute). */
  evaluate(now?: Date): Promise<EvaluationSummary>
  /** One customer's budget this month, as GET /v1/customers/{id}/budget answers it. */
  status(customerId: string, now?: Date): Promise<BudgetStatus>
}

export const createBudgets = defineModule(
  'budgets',
  budgetsConfigSchema,
  (deps, uses: BudgetsUses): BudgetsModule => {
    const crossings = new Counter({
      name: 'steward_budget_thresholds_total',
      help: 'Budget thresholds crossed (each once per customer, month, metric and budget)',
      labelNames: ['metric', 'threshold'],
      registers: [deps.metrics],
    })
    const ctx: BudgetContext = {
      pool: deps.pool,
      tenants: uses.tenants,
      sla: uses.sla,
      orchestrator: uses.orchestrator,
      onCrossing: (metric, threshold) => crossings.inc({ metric, threshold: String(threshold) }),
    }
    const evaluate = (now = new Date()) => evaluateBudgets(ctx, now)
    deps.scheduler.register({
      name: BUDGETS_JOB,
      cron: deps.config.evaluateCron,
      // Spend only grows within a month: the next minute sees everything a missed one would have.
      catchUp: false,
      run: async ({ scheduledFor }) => {
        const s = await evaluate(scheduledFor)
        if (s.failed.length)
          deps.log.warn('budget evaluation failed for some customers', { failed: s.failed })
        return { ...s }
      },
    })
    return {
      name: 'budgets',
      routes: budgetRoutes(ctx),
      evaluate,
      status: async (customerId, now = new Date()) =>
        budgetStatus(ctx, await customerOf(ctx, customerId), now),
    }
  },
)

export { BudgetNotice, type BudgetStatus } from './schemas.ts'
