-- Online lookups (a prediction that names an entity) filter on the view and a few entity keys.
-- DuckDB does not probe the composite primary key (view, entity_key) for that filter, so each
-- lookup scanned the whole online table: 6.6 ms for one key among 1M entities, against 0.6 ms
-- with this index on the key (measured, `bench/online_lookup.py`).
CREATE INDEX feature_online_entity ON feature_online (entity_key);
