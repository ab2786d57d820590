-- Serving: deployment revisions, progressive rollouts, prediction events with their late
-- actuals, and system events (rollout aborts and the like) for the alerting system.
CREATE TABLE deployment_revisions (
    model_id    VARCHAR NOT NULL,
    environment VARCHAR NOT NULL,
    revision    INTEGER NOT NULL,
    traffic     JSON NOT NULL,                -- {"v3": 0.95, "v4": 0.05}
    kind        VARCHAR NOT NULL,
    actor       VARCHAR NOT NULL,
    reason      VARCHAR NOT NULL DEFAULT '',
    created_at  TIMESTAMP NOT NULL,
    PRIMARY KEY (model_id, environment, revision)
);

-- A revision found bad (rolled back from, or aborted) is never a "last known good" target.
-- Kept apart from the immutable revision rows: history is never rewritten.
CREATE TABLE unhealthy_revisions (
    model_id    VARCHAR NOT NULL,
    environment VARCHAR NOT NULL,
    revision    INTEGER NOT NULL,
    marked_at   TIMESTAMP NOT NULL,
    reason      VARCHAR NOT NULL,
    PRIMARY KEY (model_id, environment, revision)
);

CREATE TABLE rollouts (
    id              VARCHAR PRIMARY KEY,
    model_id        VARCHAR NOT NULL,
    environment     VARCHAR NOT NULL,
    canary_version  INTEGER NOT NULL,
    stable_traffic  JSON NOT NULL,
    steps           JSON NOT NULL,
    step_index      INTEGER NOT NULL,
    interval_s      DOUBLE NOT NULL,
    guardrails      JSON NOT NULL,
    failure_limit   INTEGER NOT NULL,
    min_samples     INTEGER NOT NULL,
    status          VARCHAR NOT NULL,
    failures        INTEGER NOT NULL DEFAULT 0,
    analyses        JSON NOT NULL,
    actor           VARCHAR NOT NULL,
    reason          VARCHAR NOT NULL DEFAULT '',
    started_at      TIMESTAMP NOT NULL,
    step_started_at TIMESTAMP NOT NULL,
    updated_at      TIMESTAMP NOT NULL
);

-- event_key = md5(model_id, request_id): a retried batch never duplicates. A 128-bit integer
-- key indexes ~2x faster than the (model_id, request_id) strings (measured).
CREATE TABLE prediction_events (
    event_key   UHUGEINT PRIMARY KEY,
    model_id    VARCHAR NOT NULL,
    request_id  VARCHAR NOT NULL,
    ts          TIMESTAMP NOT NULL,
    version     INTEGER,
    environment VARCHAR,
    unit_id     VARCHAR,
    arm         VARCHAR,
    features    VARCHAR,                      -- JSON object
    label       VARCHAR,                      -- classification: the predicted class
    value       DOUBLE,                       -- regression: the prediction
    score       DOUBLE,                       -- binary classification: P(positive class)
    latency_ms  DOUBLE,
    error       VARCHAR,
    source      VARCHAR NOT NULL
);

CREATE TABLE actuals (
    event_key  UHUGEINT PRIMARY KEY,
    model_id   VARCHAR NOT NULL,
    request_id VARCHAR NOT NULL,
    ts         TIMESTAMP NOT NULL,
    label      VARCHAR,
    value      DOUBLE
);

CREATE SEQUENCE system_event_seq START 1;

CREATE TABLE system_events (
    id          BIGINT PRIMARY KEY DEFAULT nextval('system_event_seq'),
    occurred_at TIMESTAMP NOT NULL,
    kind        VARCHAR NOT NULL,
    severity    VARCHAR NOT NULL,
    model_id    VARCHAR,
    environment VARCHAR,
    message     VARCHAR NOT NULL,
    payload     JSON
);
