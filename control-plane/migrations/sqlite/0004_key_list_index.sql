-- Keyset pagination of a client's keys (newest first) reads one index range.
create index api_key_client_created on api_key (client_id, created_at desc, key_id);
