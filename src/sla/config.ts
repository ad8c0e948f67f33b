// Settings of the sla module: the "sla" section of the STEWARD_CONFIG file.
import { z } from 'zod'

export const slaConfigSchema = z.object({}).strict()

export type SlaConfig = z.infer<typeof slaConfigSchema>
