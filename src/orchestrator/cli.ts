// `steward worker`: a data-plane worker process.
import type { Config } from '../config.ts'

export async function workerCommand(_args: string[], _config: Config): Promise<void> {
  throw new Error('steward worker: not built yet (issue 3)')
}
