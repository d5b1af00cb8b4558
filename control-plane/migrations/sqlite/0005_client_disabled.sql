-- A client can be disabled (all its keys and tokens refused at the edge and
-- by self-service) and enabled again, unlike a delete.
alter table client add column disabled_at bigint;
