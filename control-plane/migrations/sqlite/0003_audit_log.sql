-- Who changed what, when: one row per change, written in the same
-- transaction as the change. Keep in step with ../postgres/0003_audit_log.sql.
create table audit_log (
    audit_id   integer primary key autoincrement,
    at_ms      bigint not null,
    actor      text not null,   -- the admin key id, or the key id of a self-service caller, or "cli"
    action     text not null,   -- client.create, client.update, client.delete, client.revoke_tokens,
                                -- key.create, key.revoke, keys.regenerate
    target     text not null,   -- the client or key id acted on
    detail     text not null default '{}'  -- JSON; never a secret
);
create index audit_log_target on audit_log (target);
