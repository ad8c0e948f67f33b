// Settings of the incidents module: the "incidents" section of the STEWARD_CONFIG file.
import { z } from 'zod'

export const incidentsConfigSchema = z.object({}).strict()

export type IncidentsConfig = z.infer<typeof incidentsConfigSchema>
