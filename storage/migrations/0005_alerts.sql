-- Alerting: rules, alerts with their state history, silences, notification deliveries (an
-- at-least-once outbox with retries) and the cursor over `system_events`.
CREATE SEQUENCE alert_rule_seq START 1;

CREATE TABLE alert_rules (
    id          VARCHAR PRIMARY KEY,           -- "r" + number, e.g. r3
    model_id    VARCHAR NOT NULL,
    metric_name VARCHAR NOT NULL,              -- error_rate, drift.<feature>, event.<kind>, ...
    comparison  VARCHAR NOT NULL,              -- > >= < <= == !=
    threshold   DOUBLE NOT NULL,
    window_s    INTEGER NOT NULL,
    for_s       INTEGER NOT NULL,
    severity    VARCHAR NOT NULL,              -- info | warning | critical
    channels    JSON NOT NULL,                 -- ["console", "webhook:https://..."]
    repeat_s    INTEGER NOT NULL,              -- 0: never repeat
    is_active   BOOLEAN NOT NULL,
    created_at  TIMESTAMP NOT NULL,
    created_by  VARCHAR NOT NULL,
    deleted_at  TIMESTAMP,                     -- kept for the alerts and history that name it
    deleted_by  VARCHAR
);

CREATE SEQUENCE alert_seq START 1;

-- One row per alert instance: pending -> firing -> resolved, or pending -> inactive.
-- At most one open (pending or firing) alert per (rule_id, model_id); enforced by the manager
-- under the store's write lock.
CREATE TABLE alerts (
    id               VARCHAR PRIMARY KEY,      -- "a" + number
    rule_id          VARCHAR NOT NULL,
    model_id         VARCHAR NOT NULL,
    state            VARCHAR NOT NULL,         -- pending | firing | resolved | inactive
    value            DOUBLE,
    samples          BIGINT,
    started_at       TIMESTAMP NOT NULL,       -- condition first seen true
    fired_at         TIMESTAMP,
    resolved_at      TIMESTAMP,                -- also set when a pending alert goes inactive
    updated_at       TIMESTAMP NOT NULL,
    last_notified_at TIMESTAMP,
    notifications    INTEGER NOT NULL DEFAULT 0,
    acked_at         TIMESTAMP,
    acked_by         VARCHAR,
    ack_comment      VARCHAR
);

CREATE SEQUENCE alert_history_seq START 1;

CREATE TABLE alert_history (
    id          BIGINT PRIMARY KEY DEFAULT nextval('alert_history_seq'),
    alert_id    VARCHAR NOT NULL,
    rule_id     VARCHAR NOT NULL,
    model_id    VARCHAR NOT NULL,
    occurred_at TIMESTAMP NOT NULL,
    kind        VARCHAR NOT NULL,              -- state | ack
    from_state  VARCHAR NOT NULL,              -- inactive for a new alert
    to_state    VARCHAR NOT NULL,
    value       DOUBLE,
    samples     BIGINT,
    actor       VARCHAR NOT NULL,
    message     VARCHAR NOT NULL
);

CREATE SEQUENCE alert_silence_seq START 1;

CREATE TABLE alert_silences (
    id          VARCHAR PRIMARY KEY,           -- "s" + number
    rule_id     VARCHAR,                       -- NULL: any rule
    model_id    VARCHAR,                       -- NULL: any model (one of the two is set)
    starts_at   TIMESTAMP NOT NULL,
    ends_at     TIMESTAMP NOT NULL,
    comment     VARCHAR NOT NULL,
    created_by  VARCHAR NOT NULL,
    created_at  TIMESTAMP NOT NULL,
    expired_at  TIMESTAMP,                     -- ended early by hand
    expired_by  VARCHAR
);

CREATE SEQUENCE alert_delivery_seq START 1;

-- The notification outbox: one row per (notification, channel). Delivered rows keep
-- delivered_at; failing ones are retried with exponential backoff until gave_up_at is set.
CREATE TABLE alert_deliveries (
    id              BIGINT PRIMARY KEY DEFAULT nextval('alert_delivery_seq'),
    alert_id        VARCHAR,                   -- NULL for a system event
    event_id        BIGINT,                    -- system_events.id, for a system event
    channel         VARCHAR NOT NULL,
    kind            VARCHAR NOT NULL,          -- firing | repeat | resolved | event
    payload         JSON NOT NULL,
    created_at      TIMESTAMP NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMP NOT NULL,
    delivered_at    TIMESTAMP,
    gave_up_at      TIMESTAMP,
    last_error      VARCHAR
);

CREATE TABLE alert_cursors (
    name  VARCHAR PRIMARY KEY,
    value BIGINT NOT NULL
);

-- System events recorded before alerting existed are history, not news.
INSERT INTO alert_cursors (name, value)
SELECT 'system_events', coalesce(max(id), 0) FROM system_events;
