// Customers and their API tokens in PostgreSQL. A token is shown once; only its SHA-256 is kept.
import { randomBytes } from 'node:crypto'
import type { Queryable } from '../db/postgres.ts'
import { type Principal, sha256 } from '../http/auth.ts'
import { ConflictError, NotFoundError } from '../http/errors.ts'

export interface Customer {
  id: string
  name: string
  webhookUrl: string | null
  createdAt: string
}

interface CustomerRow {
  id: string
  name: string
  webhook_url: string | null
  created_at: Date
}

const toCustomer = (r: CustomerRow): Customer => ({
  id: r.id,
  name: r.name,
  webhookUrl: r.webhook_url,
  createdAt: r.created_at.toISOString(),
})

const SQL = {
  insertCustomer: `INSERT INTO customers (id, name, webhook_url, webhook_secret, created_at)
                   VALUES ($1, $2, $3, $4, COALESCE($5::timestamptz, now()))
                   ON CONFLICT (id) DO NOTHING RETURNING *`,
  upsertCustomer: `INSERT INTO customers (id, name, webhook_url, webhook_secret, created_at)
                   VALUES ($1, $2, $3, $4, COALESCE($5::timestamptz, now()))
                   ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, webhook_url = EXCLUDED.webhook_url,
                     webhook_secret = COALESCE(EXCLUDED.webhook_secret, customers.webhook_secret)
                   RETURNING *`,
  getCustomer: 'SELECT * FROM customers WHERE id = $1',
  listCustomers: 'SELECT * FROM customers WHERE ($1::text IS NULL OR id = $1) ORDER BY id',
  insertToken: 'INSERT INTO api_tokens (token_hash, customer_id, name) VALUES ($1, $2, $3) RETURNING id',
  resolveToken: 'SELECT id, customer_id FROM api_tokens WHERE token_hash = $1 AND revoked_at IS NULL',
  revokeToken:
    'UPDATE api_tokens SET revoked_at = now() WHERE id = $1 AND customer_id = $2 AND revoked_at IS NULL',
}

export interface NewCustomer {
  id: string
  name: string
  webhookUrl?: string | null
  webhookSecret?: string | null
  /** Contract start (default now). */
  since?: string
}

export async function createCustomer(
  db: Queryable,
  c: NewCustomer,
  opts: { upsert?: boolean } = {},
): Promise<Customer> {
  const { rows } = await db.query<CustomerRow>(opts.upsert ? SQL.upsertCustomer : SQL.insertCustomer, [
    c.id,
    c.name,
    c.webhookUrl ?? null,
    c.webhookSecret ?? null,
    c.since ?? null,
  ])
  if (!rows[0]) throw new ConflictError(`customer ${c.id} already exists`)
  return toCustomer(rows[0])
}

export async function getCustomer(db: Queryable, id: string): Promise<Customer> {
  const { rows } = await db.query<CustomerRow>(SQL.getCustomer, [id])
  if (!rows[0]) throw new NotFoundError(`customer ${id}`)
  return toCustomer(rows[0])
}

export async function listCustomers(db: Queryable, only?: string): Promise<Customer[]> {
  const { rows } = await db.query<CustomerRow>(SQL.listCustomers, [only ?? null])
  return rows.map(toCustomer)
}

export async function issueToken(
  db: Queryable,
  customerId: string,
  name = '',
): Promise<{ id: number; token: string }> {
  await getCustomer(db, customerId)
  const token = `stw_${randomBytes(24).toString('base64url')}`
  const { rows } = await db.query<{ id: number }>(SQL.insertToken, [sha256(token), customerId, name])
  return { id: rows[0]!.id, token }
}

type TokenCache = Map<string, { at: number; principal: Principal | undefined }>
// One cache per pool, so a revocation through this process takes effect at once.
const caches = new WeakMap<Queryable, TokenCache>()

export async function revokeToken(db: Queryable, customerId: string, tokenId: number): Promise<void> {
  const { rowCount } = await db.query(SQL.revokeToken, [tokenId, customerId])
  if (!rowCount) throw new NotFoundError(`token ${tokenId}`)
  caches.get(db)?.clear()
}

/**
 * Token lookup for the auth middleware, with a short cache so hot paths (ingest) do not hit
 * PostgreSQL per request. A token revoked through this process stops working at once; one
 * revoked through another instance within `ttlMs`.
 */
export function tokenResolver(
  db: Queryable,
  ttlMs = 5_000,
): (token: string) => Promise<Principal | undefined> {
  const cache: TokenCache = caches.get(db) ?? new Map()
  caches.set(db, cache)
  return async (token) => {
    const key = sha256(token).toString('hex')
    const hit = cache.get(key)
    if (hit && Date.now() - hit.at < ttlMs) return hit.principal
    const { rows } = await db.query<{ id: number; customer_id: string }>(SQL.resolveToken, [sha256(token)])
    const principal: Principal | undefined = rows[0]
      ? { kind: 'customer', customerId: rows[0].customer_id, tokenId: rows[0].id }
      : undefined
    if (cache.size > 10_000) cache.clear()
    cache.set(key, { at: Date.now(), principal })
    return principal
  }
}
