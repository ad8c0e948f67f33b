// Tenants: customers, their API tokens and their settings (docs/architecture.md). Other modules
// read customers and settings through the TenantsModule this factory returns.
import type { Queryable } from '../db/postgres.ts'
import { defineModule, type StewardModule } from '../module.ts'
import { contactsOf } from './contacts.ts'
import { contactRoutes } from './routes/contacts.ts'
import { tenantRoutes } from './routes.ts'
import { syncScheduling } from './scheduling.ts'
import type { Customer, CustomerContact } from './schemas.ts'
import { type CustomerSettings, tenantsConfigSchema } from './settings.ts'
import { contractStarts, getCustomer, getWebhook, listCustomers, tokenActive } from './store.ts'

/** Reading customers (with `createdAt`, since when they exist): what the modules above use. */
export interface CustomerDirectory {
  /**
   * Registered customers, by id (one, when `only` names it). Pass `db` to read in the caller's
   * transaction (a caller holding a transaction must not wait for a second connection).
   */
  customers(only?: string, db?: Queryable): Promise<Customer[]>
}

export interface TenantsModule extends StewardModule, CustomerDirectory {
  /** Where a customer's notices go: its webhook URL and signing secret (undefined: no webhook). */
  webhookOf(customerId: string): Promise<{ url: string; secret: string | null } | undefined>
  /**
   * The e-mail contacts of each customer among `ids` (customers without any are absent). Pass `db`
   * to read in the caller's transaction.
   */
  contactsOf(ids: string[], db?: Queryable): Promise<Map<string, CustomerContact[]>>
  /** The contract start (`createdAt`) of each registered customer among `ids`. */
  contractStarts(ids: string[]): Promise<Map<string, Date>>
  /** The customer's effective settings (NotFoundError for an unknown customer). */
  settingsOf(customerId: string): Promise<CustomerSettings>
  /** Whether the customer's API token `tokenId` is still valid (not revoked), read now, uncached. */
  tokenActive(customerId: string, tokenId: number): Promise<boolean>
}

/**
 * The customers of a database, for a process that reads them without running the module (the
 * report CLI, benchmarks); settings are effective over `defaults` (the config's `tenants.defaults`).
 */
export function customerDirectory(
  db: Queryable,
  defaults: CustomerSettings = tenantsConfigSchema.parse(undefined).defaults,
): CustomerDirectory {
  return { customers: (only, tx) => listCustomers(tx ?? db, defaults, only) }
}

export const createTenants = defineModule('tenants', tenantsConfigSchema, (ctx): TenantsModule => {
  const defaults = ctx.config.defaults
  return {
    name: 'tenants',
    routes: tenantRoutes(ctx.pool, defaults).route('/', contactRoutes(ctx.pool)),
    settingsOf: async (customerId) => (await getCustomer(ctx.pool, defaults, customerId)).settings,
    tokenActive: (customerId, tokenId) => tokenActive(ctx.pool, customerId, tokenId),
    webhookOf: (customerId) => getWebhook(ctx.pool, customerId),
    contactsOf: (ids, db) => contactsOf(db ?? ctx.pool, ids),
    ...customerDirectory(ctx.pool, defaults),
    contractStarts: (ids) => contractStarts(ctx.pool, ids),
    // The claim's copy of the scheduling settings follows the defaults this process was given.
    async start() {
      await syncScheduling(ctx.pool, defaults, await listCustomers(ctx.pool, defaults))
    },
  }
})

export { receives } from './contacts.ts'
export { type Customer, type CustomerContact, CustomerId, DisplayName } from './schemas.ts'
export type { CustomerSettings } from './settings.ts'
export { tokenResolver } from './store.ts'
