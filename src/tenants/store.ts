// Customers and their API tokens in PostgreSQL. A token is shown once; only its SHA-256 is kept.
import { randomBytes } from 'node:crypto'
import { LRUCache } from 'lru-cache'
import { type Pool, type Queryable, transaction } from '../db/postgres.ts'
import { ConflictError, NotFoundError, ValidationError, zodFields } from '../errors.ts'
import { type Principal, sha256, type TokenResolver } from '../http/auth.ts'
import { writeScheduling } from './scheduling.ts'
import type { Customer, CustomerPatch, NewCustomer } from './schemas.ts'
import { type CustomerSettings, effectiveSettings, mergePatch } from './settings.ts'

interface CustomerRow {
  id: string
  name: string
  webhook_url: string | null
  webhook_secret: string | null
  created_at: Date
  settings: Record<string, unknown>
}

function toCustomer(r: CustomerRow, defaults: CustomerSettings): Customer {
  const settings = effectiveSettings(defaults, r.settings)
  // Stored overrides are checked against the defaults when written; a later change of defaults
  // that no longer fits them (e.g. a narrower range) falls back to the defaults, never to a guess.
  return {
    id: r.id,
    name: r.name,
    webhookUrl: r.webhook_url,
    createdAt: r.created_at.toISOString(),
    settings: settings.success ? settings.data : defaults,
  }
}

const SQL = {
  insertCustomer: `INSERT INTO customers (id, name, webhook_url, webhook_secret, created_at)
                   VALUES ($1, $2, $3, $4, COALESCE($5::timestamptz, now()))
                   ON CONFLICT (id) DO NOTHING RETURNING *`,
  getCustomer: 'SELECT * FROM customers WHERE id = $1',
  lockCustomer: 'SELECT * FROM customers WHERE id = $1 FOR UPDATE',
  updateCustomer: `UPDATE customers SET name = $2, webhook_url = $3, webhook_secret = COALESCE($4, webhook_secret),
                     settings = $5 WHERE id = $1 RETURNING *`,
  listCustomers: 'SELECT * FROM customers WHERE ($1::text IS NULL OR id = $1) ORDER BY id',
  webhook: 'SELECT webhook_url, webhook_secret FROM customers WHERE id = $1',
  createdAt: 'SELECT id, created_at FROM customers WHERE id = ANY($1::text[])',
  insertToken: 'INSERT INTO api_tokens (token_hash, customer_id, name) VALUES ($1, $2, $3) RETURNING id',
  resolveToken: 'SELECT id, customer_id FROM api_tokens WHERE token_hash = $1 AND revoked_at IS NULL',
  tokenActive: 'SELECT 1 FROM api_tokens WHERE id = $1 AND customer_id = $2 AND revoked_at IS NULL',
  revokeToken:
    'UPDATE api_tokens SET revoked_at = now() WHERE id = $1 AND customer_id = $2 AND revoked_at IS NULL',
}

/**
 * Notices are never sent unsigned: a webhook URL needs a signing secret, given with it or already
 * stored (customers verify X-Steward-Signature with it; docs/customers.md).
 */
function requireSecret(url: string | null | undefined, secret: string | null | undefined): void {
  if (url && !secret)
    throw new ValidationError([
      {
        path: 'webhookSecret',
        message: 'a webhook needs a signing secret (16 to 200 characters): notices are never sent unsigned',
      },
    ])
}

export async function createCustomer(
  db: Queryable,
  defaults: CustomerSettings,
  c: NewCustomer,
): Promise<Customer> {
  requireSecret(c.webhookUrl, c.webhookSecret)
  const { rows } = await db.query<CustomerRow>(SQL.insertCustomer, [
    c.id,
    c.name,
    c.webhookUrl ?? null,
    c.webhookSecret ?? null,
    c.since ?? null,
  ])
  if (!rows[0]) throw new ConflictError(`customer ${c.id} already exists`)
  const created = toCustomer(rows[0], defaults)
  // Until this row is written the customer is scheduled with the defaults row: the same settings.
  await writeScheduling(db, [{ customerId: created.id, settings: created.settings }])
  return created
}

export async function getCustomer(db: Queryable, defaults: CustomerSettings, id: string): Promise<Customer> {
  const { rows } = await db.query<CustomerRow>(SQL.getCustomer, [id])
  if (!rows[0]) throw new NotFoundError(`customer ${id}`)
  return toCustomer(rows[0], defaults)
}

export async function listCustomers(
  db: Queryable,
  defaults: CustomerSettings,
  only?: string,
): Promise<Customer[]> {
  const { rows } = await db.query<CustomerRow>(SQL.listCustomers, [only ?? null])
  return rows.map((r) => toCustomer(r, defaults))
}

/** A customer's webhook URL and signing secret; undefined without a webhook (or without the customer). */
export async function getWebhook(
  db: Queryable,
  id: string,
): Promise<{ url: string; secret: string | null } | undefined> {
  const { rows } = await db.query<{ webhook_url: string | null; webhook_secret: string | null }>(
    SQL.webhook,
    [id],
  )
  const r = rows[0]
  return r?.webhook_url ? { url: r.webhook_url, secret: r.webhook_secret } : undefined
}

/** When each registered customer among `ids` was created (its contract start); unknown ids are absent. */
export async function contractStarts(db: Queryable, ids: string[]): Promise<Map<string, Date>> {
  const { rows } = await db.query<{ id: string; created_at: Date }>(SQL.createdAt, [ids])
  return new Map(rows.map((r) => [r.id, r.created_at]))
}

/**
 * Applies a patch under the row's lock (concurrent patches apply one after the other). The
 * merged settings must parse with the defaults, else nothing changes and each bad field is named.
 */
export async function updateCustomer(
  pool: Pool,
  defaults: CustomerSettings,
  id: string,
  patch: CustomerPatch,
): Promise<Customer> {
  return transaction(pool, async (c) => {
    const { rows } = await c.query<CustomerRow>(SQL.lockCustomer, [id])
    const row = rows[0]
    if (!row) throw new NotFoundError(`customer ${id}`)
    requireSecret(
      patch.webhookUrl === undefined ? row.webhook_url : patch.webhookUrl,
      patch.webhookSecret ?? row.webhook_secret,
    )
    const overrides = patch.settings === undefined ? row.settings : mergePatch(row.settings, patch.settings)
    const checked = effectiveSettings(defaults, overrides)
    if (!checked.success)
      throw new ValidationError(zodFields(checked.error, ['settings']), undefined, 'unprocessable')
    const updated = await c.query<CustomerRow>(SQL.updateCustomer, [
      id,
      patch.name ?? row.name,
      patch.webhookUrl === undefined ? row.webhook_url : patch.webhookUrl,
      patch.webhookSecret ?? null,
      JSON.stringify(overrides ?? {}),
    ])
    const customer = toCustomer(updated.rows[0]!, defaults)
    await writeScheduling(c, [{ customerId: id, settings: customer.settings }])
    return customer
  })
}

export async function issueToken(
  db: Queryable,
  customerId: string,
  name = '',
): Promise<{ id: number; token: string }> {
  const { rows: found } = await db.query(SQL.getCustomer, [customerId])
  if (!found[0]) throw new NotFoundError(`customer ${customerId}`)
  const token = `stw_${randomBytes(24).toString('base64url')}`
  const { rows } = await db.query<{ id: number }>(SQL.insertToken, [sha256(token), customerId, name])
  return { id: rows[0]!.id, token }
}

/** Whether the customer's token `tokenId` exists and is not revoked (read now, never cached). */
export async function tokenActive(db: Queryable, customerId: string, tokenId: number): Promise<boolean> {
  const { rowCount } = await db.query(SQL.tokenActive, [tokenId, customerId])
  return (rowCount ?? 0) > 0
}

/** What a token look-up found, kept for `ttlMs`. */
type TokenCache = LRUCache<string, { principal: Principal | undefined }>
// One cache per pool, so a revocation through this process takes effect at once.
const caches = new WeakMap<Queryable, { valid: TokenCache; unknown: TokenCache }>()

export async function revokeToken(db: Queryable, customerId: string, tokenId: number): Promise<void> {
  const { rowCount } = await db.query(SQL.revokeToken, [tokenId, customerId])
  if (!rowCount) throw new NotFoundError(`token ${tokenId}`)
  const valid = caches.get(db)?.valid
  if (valid)
    for (const [key, { principal }] of valid.entries())
      if (principal?.kind === 'customer' && principal.tokenId === tokenId) valid.delete(key)
}

export interface TokenCacheOptions {
  /** Look-ups kept (of valid tokens; as many of unknown ones, apart, so those never evict these). */
  maxEntries: number
  ttlMs: number
}

/**
 * Token look-up for the auth middleware, with a bounded cache (least recently used forgotten
 * first) so hot paths (ingest) do not hit PostgreSQL per request. Valid and unknown tokens are
 * cached apart: a flood of random tokens can fill only the second, never push a token in use out.
 * A token revoked through this process stops working at once; one revoked through another
 * instance within `ttlMs`. `known` answers from the cache alone (the rate limit of failed
 * authentications lets cached valid tokens through).
 */
export function tokenResolver(
  db: Queryable,
  opts: TokenCacheOptions = { maxEntries: 10_000, ttlMs: 5_000 },
): TokenResolver {
  const make = (): TokenCache => new LRUCache({ max: opts.maxEntries, ttl: Math.max(1, opts.ttlMs) })
  const cache = caches.get(db) ?? { valid: make(), unknown: make() }
  caches.set(db, cache)
  const keyOf = (token: string) => sha256(token).toString('hex')
  const resolve = async (token: string) => {
    const key = keyOf(token)
    const hit = cache.valid.get(key) ?? cache.unknown.get(key)
    if (hit) return hit.principal
    const { rows } = await db.query<{ id: number; customer_id: string }>(SQL.resolveToken, [sha256(token)])
    const principal: Principal | undefined = rows[0]
      ? { kind: 'customer', customerId: rows[0].customer_id, tokenId: rows[0].id }
      : undefined
    ;(principal ? cache.valid : cache.unknown).set(key, { principal })
    return principal
  }
  return Object.assign(resolve, { known: (token: string) => cache.valid.get(keyOf(token))?.principal })
}
