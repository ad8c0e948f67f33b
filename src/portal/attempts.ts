// The sign-in rate limit per client address (table portal_login_attempts): a fixed window of
// `windowSeconds` per address, counted in PostgreSQL so every instance shares it and a restart
// does not reset it.
//
// Guarantees: the count is one atomic upsert, so concurrent attempts from one address are each
// counted; an attempt beyond the limit is refused before the token is even looked up.
import type { Queryable } from '../db/postgres.ts'

const SQL = {
  count: `
    INSERT INTO portal_login_attempts AS a (address, window_start, attempts) VALUES ($1, now(), 1)
    ON CONFLICT (address) DO UPDATE SET
      attempts = CASE WHEN a.window_start <= now() - $2::int * interval '1 second' THEN 1 ELSE a.attempts + 1 END,
      window_start = CASE WHEN a.window_start <= now() - $2::int * interval '1 second' THEN now() ELSE a.window_start END
    RETURNING attempts,
      extract(epoch FROM window_start + $2::int * interval '1 second' - now())::float8 AS seconds_left`,
  purge: `DELETE FROM portal_login_attempts WHERE window_start <= now() - $1::int * interval '1 second'`,
}

/** Counts one attempt; `allowed` false (and when to retry) once the address is over the limit. */
export async function countAttempt(
  db: Queryable,
  address: string,
  limit: { attempts: number; windowSeconds: number },
): Promise<{ allowed: boolean; retryAfterSeconds: number }> {
  const { rows } = await db.query<{ attempts: number; seconds_left: number }>(SQL.count, [
    address,
    limit.windowSeconds,
  ])
  const r = rows[0]!
  return { allowed: r.attempts <= limit.attempts, retryAfterSeconds: Math.max(1, Math.ceil(r.seconds_left)) }
}

/** Forgets windows that are over. */
export async function purgeAttempts(db: Queryable, windowSeconds: number): Promise<number> {
  return (await db.query(SQL.purge, [windowSeconds])).rowCount ?? 0
}
