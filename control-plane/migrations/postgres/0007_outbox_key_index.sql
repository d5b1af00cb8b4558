-- The claim query looks for other claimed entries of the same name; without
-- this index that check scans the whole outbox for every candidate.
create index outbox_key on outbox (key_id);
