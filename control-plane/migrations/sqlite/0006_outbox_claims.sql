-- Several publishers (control-plane replicas on PostgreSQL) drain one outbox:
-- an entry being published is claimed until this time. While any entry of a
-- key is claimed, no other publisher takes that key's entries, so the writes
-- of one key's record never race (the last write is the newest state).
alter table outbox add column claimed_until_ms bigint;
