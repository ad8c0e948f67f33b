// `steward demo`.
import type { Config } from '../config.ts'

export async function demoCommand(_args: string[], _config: Config): Promise<void> {
  throw new Error('steward demo: not built yet (issue 8)')
}
