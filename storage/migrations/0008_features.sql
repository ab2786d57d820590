-- The feature store: entities, versioned feature views, per-view state, the online store,
-- and which views (and versions) a training job read. Each feature view whose source is the
-- store also gets its own offline table, `fv_<view>`, created when the view is first applied
-- (storage/repos/features.py): typed columns are what make the point-in-time join fast.
CREATE TABLE feature_entities (
    name        VARCHAR PRIMARY KEY,
    join_key    VARCHAR NOT NULL,             -- the key column in sources and entity frames
    value_type  VARCHAR NOT NULL,             -- string | int
    description VARCHAR NOT NULL DEFAULT '',
    created_at  TIMESTAMP NOT NULL,
    created_by  VARCHAR NOT NULL,
    updated_at  TIMESTAMP NOT NULL
);

-- One row per applied version of a view; the newest is the view's definition. Immutable.
CREATE TABLE feature_view_versions (
    name        VARCHAR NOT NULL,
    version     INTEGER NOT NULL,
    definition  JSON NOT NULL,                -- entity, source, timestamps, ttl, features
    changes     JSON NOT NULL,                -- ["added feature x", ...] against the previous
    applied_at  TIMESTAMP NOT NULL,
    applied_by  VARCHAR NOT NULL,
    PRIMARY KEY (name, version)
);

CREATE TABLE feature_view_state (
    name               VARCHAR PRIMARY KEY,
    offline_rows       BIGINT NOT NULL DEFAULT 0,
    has_ties           BOOLEAN NOT NULL DEFAULT false, -- two rows share (key, event time)
    last_ingest_at     TIMESTAMP,
    materialized_up_to TIMESTAMP,
    materialized_at    TIMESTAMP,
    online_entities    BIGINT NOT NULL DEFAULT 0
);

-- The latest value per entity as of the view's last materialization.
CREATE TABLE feature_online (
    view        VARCHAR NOT NULL,
    entity_key  VARCHAR NOT NULL,             -- the key as text ('42' for an int key)
    event_ts    TIMESTAMP NOT NULL,
    features    JSON NOT NULL,                -- {"feature": value, ...}
    PRIMARY KEY (view, entity_key)
);

CREATE TABLE feature_lineage (
    job_id           VARCHAR PRIMARY KEY,
    entities         VARCHAR NOT NULL,        -- the entity file (labels and timestamps)
    entities_sha256  VARCHAR NOT NULL,
    timestamp_column VARCHAR NOT NULL,
    features         JSON NOT NULL,           -- ["view:feature", ...]
    views            JSON NOT NULL,           -- {"view": version}
    rows             BIGINT NOT NULL,
    created_at       TIMESTAMP NOT NULL
);
