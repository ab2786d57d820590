-- The model registry, its tags and aliases, and the hash-chained audit log.
CREATE TABLE models (
    id          VARCHAR PRIMARY KEY,          -- the model's name, a slug; never renamed
    task        VARCHAR NOT NULL,
    target      VARCHAR,
    features    JSON NOT NULL,                -- [{"name": ..., "type": ...}, ...]
    description VARCHAR NOT NULL DEFAULT '',
    created_at  TIMESTAMP NOT NULL,
    created_by  VARCHAR NOT NULL
);

CREATE TABLE model_versions (
    id                  VARCHAR PRIMARY KEY,  -- "<model>:v<number>"
    model_id            VARCHAR NOT NULL,
    number              INTEGER NOT NULL,
    algorithm           VARCHAR NOT NULL,
    parameters          JSON NOT NULL,
    performance_metrics JSON NOT NULL,
    training_data_hash  VARCHAR,
    training_job_id     VARCHAR,
    parent_version      INTEGER,
    artifact_sha256     VARCHAR NOT NULL,
    artifact_size       BIGINT NOT NULL,
    signature           JSON NOT NULL,
    status              VARCHAR NOT NULL,
    status_reason       VARCHAR NOT NULL DEFAULT '',
    status_changed_at   TIMESTAMP NOT NULL,
    description         VARCHAR NOT NULL DEFAULT '',
    created_at          TIMESTAMP NOT NULL,
    created_by          VARCHAR NOT NULL,
    UNIQUE (model_id, number)
);

CREATE TABLE version_tags (
    model_id VARCHAR NOT NULL,
    number   INTEGER NOT NULL,
    key      VARCHAR NOT NULL,
    value    VARCHAR NOT NULL,
    PRIMARY KEY (model_id, number, key)
);

CREATE TABLE aliases (
    model_id   VARCHAR NOT NULL,
    alias      VARCHAR NOT NULL,
    number     INTEGER NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    updated_by VARCHAR NOT NULL,
    PRIMARY KEY (model_id, alias)
);

CREATE TABLE audit_log (
    seq       BIGINT PRIMARY KEY,
    recorded_at TIMESTAMP NOT NULL,
    actor     VARCHAR NOT NULL,
    action    VARCHAR NOT NULL,
    target    VARCHAR NOT NULL,
    model_id  VARCHAR,
    before    JSON,
    after     JSON,
    reason    VARCHAR NOT NULL DEFAULT '',
    prev_hash VARCHAR NOT NULL,
    hash      VARCHAR NOT NULL
);
