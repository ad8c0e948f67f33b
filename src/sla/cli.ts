// `steward report sla-credits`.
import type { Config } from '../config.ts'

export async function reportCommand(_args: string[], _config: Config): Promise<void> {
  throw new Error('steward report: not built yet (issue 5)')
}
