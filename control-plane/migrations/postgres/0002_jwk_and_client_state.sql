-- Signed use of secret keys, and client-wide token revocation.
-- Keep in step with ../sqlite/0002_jwk_and_client_state.sql.

-- The public JWK (JSON) of a secret key's Ed25519 pair; null for publishable
-- keys (static use only). Public by definition: safe to store and publish.
alter table api_key add column public_jwk text;

-- Tokens issued before this Unix time are refused at the edge: revokes every
-- outstanding JWT of the client at once.
alter table client add column revoked_before bigint;
-- Revision of the client's published state (see api_key.rev).
alter table client add column rev bigint not null default 1;

-- outbox.key_id now names either a key (17 base62 digits) or, for the
-- client-wide record, a client (`cl_…`); the two formats cannot collide.
