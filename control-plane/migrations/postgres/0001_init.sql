-- keygate schema, PostgreSQL dialect. Keep in step with ../sqlite/0001_init.sql
-- (comments on the columns live there). Never edit an applied migration.

create table client (
    client_id  text primary key,
    name       text not null,
    owner_id   text,
    metadata   text not null default '{}',
    created_at bigint not null,
    deleted_at bigint
);
create index client_owner on client (owner_id);

create table api_key (
    key_id     text primary key,
    client_id  text not null references client (client_id),
    env        text not null,
    key_type   text not null,
    name       text,
    scopes     text not null default '[]',
    key_hash   text not null unique,
    expires_at bigint,
    created_at bigint not null,
    revoked_at bigint,
    rev        bigint not null default 1,
    published_rev bigint not null default 0
);
create index api_key_client_env on api_key (client_id, env);

create table outbox (
    outbox_id       bigserial primary key,
    key_id          text not null,
    created_at_ms   bigint not null,
    attempts        bigint not null default 0,
    next_attempt_ms bigint not null,
    last_error      text
);
create index outbox_due on outbox (next_attempt_ms);

create table publish_state (
    name            text primary key,
    last_success_ms bigint,
    last_error      text,
    last_error_ms   bigint
);
