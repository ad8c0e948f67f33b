// Settings of the orchestrator module: the "orchestrator" section of the STEWARD_CONFIG file.
import { z } from 'zod'

export const orchestratorConfigSchema = z
  .object({
    /** In-process workers started by `steward serve` (override: --workers). */
    workers: z.number().int().min(0).max(256).default(2),
  })
  .strict()

export type OrchestratorConfig = z.infer<typeof orchestratorConfigSchema>
