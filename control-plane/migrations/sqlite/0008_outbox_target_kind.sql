-- outbox.key_id names a key or, since 0002, a client (its own record), told
-- apart until now by the `cl_` prefix of client ids. The kind is now explicit:
-- `key` (the key's static and JWK records) or `client` (the client record).
-- The column keeps its name (renaming it would rewrite the table on SQLite);
-- read it as "the target's id". Existing rows get their kind from the prefix,
-- the one time it is read. Never edit this file once applied (sqlx checksums it).
alter table outbox add column target_kind text not null default 'key';
update outbox set target_kind = 'client' where substr(key_id, 1, 3) = 'cl_';
