// Customers as the SLA engine sees them: ids, and since when each exists (a customer is measured
// from its first whole minute, and a month is closed for the customers that existed in it). Read
// through the tenants module, which owns them.
import { NotFoundError } from '../errors.ts'
import type { Customer, CustomerDirectory } from '../tenants/index.ts'
import type { Month } from './months.ts'

/** Ids of every customer, or of the one `scope` names (NotFoundError when it does not exist). */
export async function customerIds(tenants: CustomerDirectory, scope?: string): Promise<string[]> {
  const found = await tenants.customers(scope)
  if (scope && !found.length) throw new NotFoundError(`customer ${scope}`)
  return found.map((c) => c.id)
}

/** Throws NotFoundError unless the customer exists. */
export async function requireCustomer(tenants: CustomerDirectory, customerId: string): Promise<void> {
  await customerIds(tenants, customerId)
}

/** The customers (in `scope`, when given) that existed before the month ended, by id. */
export async function customersOfMonth(
  tenants: CustomerDirectory,
  month: Month,
  scope?: string,
): Promise<Customer[]> {
  return (await tenants.customers(scope)).filter((c) => Date.parse(c.createdAt) < month.end.getTime())
}

/** When each of `ids` was created (ids that are not customers are left out). */
export async function createdAt(tenants: CustomerDirectory, ids: string[]): Promise<Map<string, Date>> {
  const wanted = new Set(ids)
  // One customer (a customer token's view) is read alone; more are read in one list.
  const found = ids.length === 1 ? await tenants.customers(ids[0]) : await tenants.customers()
  return new Map(found.filter((c) => wanted.has(c.id)).map((c) => [c.id, new Date(c.createdAt)]))
}
