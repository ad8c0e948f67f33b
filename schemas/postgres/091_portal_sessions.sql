-- The customer portal (src/portal): server-side sessions and the sign-in rate limit.

-- A session is opened with one of the customer's API tokens. The session id lives only in the
-- browser's cookie; only its SHA-256 is stored. Revoking the token ends its sessions (checked on
-- every request); deleting the customer or the token deletes them.
CREATE TABLE portal_sessions (
  id_hash      bytea PRIMARY KEY,
  customer_id  text NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
  token_id     bigint NOT NULL REFERENCES api_tokens (id) ON DELETE CASCADE,
  created_at   timestamptz NOT NULL DEFAULT now(),
  last_seen_at timestamptz NOT NULL DEFAULT now(),
  -- The absolute timeout; the idle timeout is applied to last_seen_at when the session is read.
  expires_at   timestamptz NOT NULL
);
CREATE INDEX portal_sessions_token ON portal_sessions (token_id);
CREATE INDEX portal_sessions_expires ON portal_sessions (expires_at);

-- Sign-in attempts per client address in the current fixed window, shared by every instance.
CREATE TABLE portal_login_attempts (
  address      text PRIMARY KEY,
  window_start timestamptz NOT NULL,
  attempts     integer NOT NULL
);
