// Portal sessions in PostgreSQL (table portal_sessions) and their CSRF tokens.
//
// Guarantees:
// - a session id is 32 random bytes, shown only to the browser (its cookie); only its SHA-256 is
//   stored, so a copy of the table opens no session;
// - a session is valid until the earlier of its absolute expiry (fixed at sign-in) and
//   `idleSeconds` after its last use; an ended session is never read back as valid;
// - the CSRF token is an HMAC of the session id: it differs per session, needs no storage, and
//   cannot be computed without the cookie (HttpOnly, so no script can read it).
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto'
import type { Queryable } from '../db/postgres.ts'
import { sha256 } from '../http/auth.ts'

const SQL = {
  create: `INSERT INTO portal_sessions (id_hash, customer_id, token_id, expires_at)
           VALUES ($1, $2, $3, now() + $4::int * interval '1 second')`,
  // $3: touch (a use by the person) or only read (the automatic refresh).
  find: `
    UPDATE portal_sessions SET last_seen_at = CASE WHEN $3 THEN now() ELSE last_seen_at END
    WHERE id_hash = $1 AND expires_at > now() AND last_seen_at > now() - $2::int * interval '1 second'
    RETURNING customer_id, token_id`,
  delete: 'DELETE FROM portal_sessions WHERE id_hash = $1',
  deleteForToken: 'DELETE FROM portal_sessions WHERE token_id = $1',
  purge: `DELETE FROM portal_sessions
          WHERE expires_at <= now() OR last_seen_at <= now() - $1::int * interval '1 second'`,
}

export interface Session {
  /** The raw id (from the cookie): what the CSRF token is derived from. */
  id: string
  customerId: string
  tokenId: number
}

const ID_BYTES = 32
const idHash = (id: string) => sha256(`portal-session:${id}`)

/** Opens a session for the customer's token; returns its id (for the cookie only). */
export async function openSession(
  db: Queryable,
  customerId: string,
  tokenId: number,
  absoluteSeconds: number,
): Promise<string> {
  const id = randomBytes(ID_BYTES).toString('base64url')
  await db.query(SQL.create, [idHash(id), customerId, tokenId, absoluteSeconds])
  return id
}

/** The session `id` names, if it is still valid; `touch` records a use (resets the idle timeout). */
export async function findSession(
  db: Queryable,
  id: string,
  idleSeconds: number,
  touch: boolean,
): Promise<Session | undefined> {
  // Anything that is not the shape of an id is not looked up.
  if (!/^[A-Za-z0-9_-]{43}$/.test(id)) return undefined
  const { rows } = await db.query<{ customer_id: string; token_id: number }>(SQL.find, [
    idHash(id),
    idleSeconds,
    touch,
  ])
  const r = rows[0]
  return r ? { id, customerId: r.customer_id, tokenId: r.token_id } : undefined
}

export async function closeSession(db: Queryable, id: string): Promise<void> {
  await db.query(SQL.delete, [idHash(id)])
}

/** Ends every session opened with a token (it was revoked). */
export async function closeTokenSessions(db: Queryable, tokenId: number): Promise<void> {
  await db.query(SQL.deleteForToken, [tokenId])
}

/** Deletes ended sessions; returns how many. */
export async function purgeSessions(db: Queryable, idleSeconds: number): Promise<number> {
  return (await db.query(SQL.purge, [idleSeconds])).rowCount ?? 0
}

/** The session's CSRF token: every form of the session carries it, every POST must return it. */
export function csrfToken(sessionId: string): string {
  return createHmac('sha256', sessionId).update('steward-portal-csrf').digest('base64url')
}

export function validCsrf(sessionId: string, presented: unknown): boolean {
  if (typeof presented !== 'string') return false
  const want = Buffer.from(csrfToken(sessionId))
  const got = Buffer.from(presented)
  return got.length === want.length && timingSafeEqual(got, want)
}
