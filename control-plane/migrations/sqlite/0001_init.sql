-- keygate schema, SQLite dialect. Keep in step with ../postgres/0001_init.sql:
-- the same tables, columns and meanings; only types differ. Never edit an
-- applied migration (sqlx checksums them); add a new one.
--
-- Times are Unix seconds (bigint) in both dialects, so one set of queries
-- serves both backends and nothing depends on a driver's date handling.

create table client (
    client_id  text primary key,            -- cl_ + 17 base62 digits
    name       text not null,
    owner_id   text,                        -- the customer's own id for the owner (user, org)
    metadata   text not null default '{}',  -- JSON object, opaque to keygate
    created_at bigint not null,
    deleted_at bigint                       -- soft delete: keys stay for audit, all revoked
);
create index client_owner on client (owner_id);

create table api_key (
    key_id     text primary key,            -- the public id inside the key text
    client_id  text not null references client (client_id),
    env        text not null,
    key_type   text not null,               -- secret | publishable
    name       text,
    scopes     text not null default '[]',  -- JSON array of "METHODS:/prefix" (or "admin")
    key_hash   text not null unique,        -- hex SHA-256 of the key; the key itself is never stored
    expires_at bigint,
    created_at bigint not null,
    revoked_at bigint,
    -- Bumped on every change that affects verification; the KV record carries
    -- it, so a late write of an old state is recognisable.
    rev        bigint not null default 1,
    published_rev bigint not null default 0 -- the newest rev acknowledged by KV
);
create index api_key_client_env on api_key (client_id, env);

-- Transactional outbox: written in the same transaction as the change, drained
-- by the publisher. An entry names a key; the publisher sends that key's
-- *current* state, so retries and duplicates converge on the newest state.
create table outbox (
    outbox_id       integer primary key autoincrement,
    key_id          text not null,
    created_at_ms   bigint not null,
    attempts        bigint not null default 0,
    next_attempt_ms bigint not null,
    last_error      text
);
create index outbox_due on outbox (next_attempt_ms);

-- One row per publisher, for status reporting.
create table publish_state (
    name            text primary key,
    last_success_ms bigint,
    last_error      text,
    last_error_ms   bigint
);
