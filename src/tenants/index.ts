// Tenants: customers, their API tokens and their settings (docs/architecture.md). Other modules
// read customers and settings through the TenantsModule this factory returns.
import { defineModule, type StewardModule } from '../module.ts'
import { tenantRoutes } from './routes.ts'
import type { Customer } from './schemas.ts'
import { type CustomerSettings, tenantsConfigSchema } from './settings.ts'
import { contractStarts, getCustomer, listCustomers } from './store.ts'

export interface TenantsModule extends StewardModule {
  /** The customer's effective settings (NotFoundError for an unknown customer). */
  settingsOf(customerId: string): Promise<CustomerSettings>
  /** Registered customers, by id (one, when `only` names it). */
  customers(only?: string): Promise<Customer[]>
  /** The contract start (`createdAt`) of each registered customer among `ids`. */
  contractStarts(ids: string[]): Promise<Map<string, Date>>
}

export const createTenants = defineModule('tenants', tenantsConfigSchema, (ctx): TenantsModule => {
  const defaults = ctx.config.defaults
  return {
    name: 'tenants',
    routes: tenantRoutes(ctx.pool, defaults),
    settingsOf: async (customerId) => (await getCustomer(ctx.pool, defaults, customerId)).settings,
    customers: (only) => listCustomers(ctx.pool, defaults, only),
    contractStarts: (ids) => contractStarts(ctx.pool, ids),
  }
})

export type { Customer } from './schemas.ts'
export type { CustomerSettings } from './settings.ts'
export { tokenResolver } from './store.ts'
