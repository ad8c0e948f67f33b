// Settings of the ingest module: the "ingest" section of the STEWARD_CONFIG file.
import { z } from 'zod'

export const ingestConfigSchema = z.object({}).strict()

export type IngestConfig = z.infer<typeof ingestConfigSchema>
