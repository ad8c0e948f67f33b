// Tenants: customers and their API tokens.
import type { AppDeps, StewardModule } from '../module.ts'
import { tenantRoutes } from './routes.ts'

export {
  type Customer,
  createCustomer,
  getCustomer,
  issueToken,
  listCustomers,
  tokenResolver,
} from './store.ts'

export function createTenants(deps: AppDeps): StewardModule {
  return { name: 'tenants', routes: tenantRoutes(deps.pool) }
}
