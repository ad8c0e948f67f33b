// The incidents module: see docs/architecture.md. Other modules import only from this file.
import type { AppDeps, StewardModule } from '../module.ts'

export function createIncidents(_deps: AppDeps): StewardModule {
  return { name: 'incidents' }
}
