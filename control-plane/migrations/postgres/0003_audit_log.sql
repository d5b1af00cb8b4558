-- Keep in step with ../sqlite/0003_audit_log.sql (comments there).
create table audit_log (
    audit_id   bigserial primary key,
    at_ms      bigint not null,
    actor      text not null,
    action     text not null,
    target     text not null,
    detail     text not null default '{}'
);
create index audit_log_target on audit_log (target);
