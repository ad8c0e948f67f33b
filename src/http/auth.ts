// Bearer-token authentication for every /v1 route, and the tenant-scoping rule every module uses:
// the admin token sees everything; a customer's token sees and acts on that customer only.
// Failed authentications are rate-limited per client address (auth-failures.ts): past the limit,
// tokens that would need a look-up get 429 with Retry-After.
import { createHash, timingSafeEqual } from 'node:crypto'
import type { MiddlewareHandler } from 'hono'
import { BackpressureError, ForbiddenError, UnauthorizedError } from '../errors.ts'
import { AuthFailureLimiter, type AuthFailureLimits, clientAddress } from './auth-failures.ts'

export type Principal = { kind: 'admin' } | { kind: 'customer'; customerId: string; tokenId: number }

export interface AppEnv {
  Variables: { principal: Principal }
}

export const sha256 = (s: string): Buffer => createHash('sha256').update(s).digest()

/** Constant-time comparison of two secrets, whatever their lengths. */
export const sameSecret = (a: string, b: string): boolean => timingSafeEqual(sha256(a), sha256(b))

/** Looks a presented token up; returns undefined for an unknown or revoked one. */
export interface TokenResolver {
  (token: string): Promise<Principal | undefined>
  /** The principal of a token known valid without a look-up (cached), else undefined. */
  known?(token: string): Principal | undefined
}

export function bearerAuth(
  adminToken: string,
  resolve: TokenResolver,
  failures?: AuthFailureLimits,
): MiddlewareHandler<AppEnv> {
  const adminHash = sha256(adminToken)
  const limiter = failures ? new AuthFailureLimiter(failures) : undefined
  return async (c, next) => {
    const address = limiter ? clientAddress(c, limiter.trusted) : undefined
    const refuse = (message?: string): never => {
      limiter?.failed(address)
      throw new UnauthorizedError(message)
    }
    const header = c.req.header('authorization') ?? ''
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header)
    const token = match?.[1] ?? refuse()
    // Hash both sides so the comparison is constant-time whatever the lengths.
    let principal: Principal | undefined = timingSafeEqual(sha256(token), adminHash)
      ? { kind: 'admin' }
      : resolve.known?.(token)
    if (!principal) {
      const wait = limiter?.retryAfter(address) ?? 0
      if (wait > 0)
        throw new BackpressureError('rate_limited', 'too many failed authentications from this address', wait)
      principal = (await resolve(token)) ?? refuse('the bearer token is unknown or revoked')
    }
    c.set('principal', principal)
    await next()
  }
}

export function requireAdmin(p: Principal): void {
  if (p.kind !== 'admin') throw new ForbiddenError('this route needs the admin token')
}

/**
 * The customer a request may act for. A customer token is pinned to its own customer (asking for
 * another is 403); the admin may name any customer or none (undefined = all customers).
 */
export function customerScope(p: Principal, requested?: string): string | undefined {
  if (p.kind === 'admin') return requested
  if (requested !== undefined && requested !== p.customerId) {
    throw new ForbiddenError(`this token belongs to customer ${p.customerId}`)
  }
  return p.customerId
}

/** Whether `p` may see a record that belongs to `customerId` (used to 404 other tenants' records). */
export function canSee(p: Principal, customerId: string): boolean {
  return p.kind === 'admin' || p.customerId === customerId
}
