-- Customer contacts (tenants): the e-mail addresses a customer's notices go to, each with the
-- notice kinds it receives. Replaced whole by PUT /v1/customers/{id}/contacts; one address once per
-- customer (compared without case).
CREATE TABLE customer_contacts (
  id          bigserial PRIMARY KEY,
  customer_id text NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
  email       text NOT NULL CHECK (email !~ '[[:cntrl:]]' AND length(email) <= 254),
  name        text NOT NULL DEFAULT '' CHECK (name !~ '[[:cntrl:]]' AND length(name) <= 100),
  notices     text[] NOT NULL,
  position    integer NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX customer_contacts_address ON customer_contacts (customer_id, lower(email));
CREATE INDEX customer_contacts_customer ON customer_contacts (customer_id, position);
