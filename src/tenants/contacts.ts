// Customer contacts in PostgreSQL (table `customer_contacts`): the addresses a customer's notices
// are e-mailed to, each with the notice kinds it receives.
//
// Guarantees: a PUT replaces a customer's list whole, in one transaction under the customer's row
// lock (concurrent PUTs apply one after the other; a reader sees the old list or the new one); an
// address is stored once per customer (compared without case); only addresses and display names
// that passed the schema's checks (no CR/LF, no address delimiters in a name) are ever stored.
import { type Pool, type Queryable, transaction } from '../db/postgres.ts'
import { NotFoundError } from '../errors.ts'
import type { CustomerContact, CustomerContacts, CustomerContactsUpdate, NoticeKind } from './schemas.ts'

const SQL = {
  lockCustomer: 'SELECT id FROM customers WHERE id = $1 FOR UPDATE',
  customerExists: 'SELECT id FROM customers WHERE id = $1',
  deleteContacts: 'DELETE FROM customer_contacts WHERE customer_id = $1',
  insertContacts: `
    INSERT INTO customer_contacts (customer_id, email, name, notices, position)
    SELECT $1, c.email, c.name, ARRAY(SELECT jsonb_array_elements_text(c.notices)), c.position
    FROM jsonb_to_recordset($2::jsonb) AS c (email text, name text, notices jsonb, position int)`,
  contactsOf: `
    SELECT customer_id, email, name, notices FROM customer_contacts
    WHERE customer_id = ANY($1::text[]) ORDER BY customer_id, position`,
}

interface ContactRow {
  customer_id: string
  email: string
  name: string
  notices: NoticeKind[]
}

const toContact = (r: ContactRow): CustomerContact => ({ email: r.email, name: r.name, notices: r.notices })

/** A customer's contacts, in the order they were given (NotFoundError for an unknown customer). */
export async function getContacts(db: Queryable, customerId: string): Promise<CustomerContacts> {
  const { rows } = await db.query(SQL.customerExists, [customerId])
  if (!rows[0]) throw new NotFoundError(`customer ${customerId}`)
  const found = await db.query<ContactRow>(SQL.contactsOf, [[customerId]])
  return { customerId, contacts: found.rows.map(toContact) }
}

/** Replaces a customer's contacts with `update.contacts` (already validated by its schema). */
export async function putContacts(
  pool: Pool,
  customerId: string,
  update: CustomerContactsUpdate,
): Promise<CustomerContacts> {
  return transaction(pool, async (db) => {
    const { rows } = await db.query(SQL.lockCustomer, [customerId])
    if (!rows[0]) throw new NotFoundError(`customer ${customerId}`)
    await db.query(SQL.deleteContacts, [customerId])
    const list = update.contacts.map((c, position) => ({ ...c, position }))
    if (list.length) await db.query(SQL.insertContacts, [customerId, JSON.stringify(list)])
    return getContacts(db, customerId)
  })
}

/** The contacts of each customer among `ids` (customers without contacts are absent). */
export async function contactsOf(db: Queryable, ids: string[]): Promise<Map<string, CustomerContact[]>> {
  const out = new Map<string, CustomerContact[]>()
  if (!ids.length) return out
  const { rows } = await db.query<ContactRow>(SQL.contactsOf, [ids])
  for (const r of rows) {
    const list = out.get(r.customer_id) ?? []
    list.push(toContact(r))
    out.set(r.customer_id, list)
  }
  return out
}

/**
 * Whether a contact receives a notice of `kind`: its own kinds, and in a month with a credit the
 * monthly report is the credit notice, so `sla.monthly_report` contacts receive `sla.credit_issued`.
 */
export function receives(contact: Pick<CustomerContact, 'notices'>, kind: string): boolean {
  return (
    (contact.notices as string[]).includes(kind) ||
    (kind === 'sla.credit_issued' && contact.notices.includes('sla.monthly_report'))
  )
}
