-- Per-minute rollups of prediction traffic, so a day of per-minute history reads ~1,440 rows
-- per version instead of every event. Only the traffic side is rolled up (requests, errors,
-- exact per-minute latency quantiles, prediction sums): quality needs labels, which arrive
-- late, and is always computed from the events joined with their actuals.
-- Environments are pooled (a per-environment query reads the events).
CREATE TABLE event_rollups (
    model_id   VARCHAR NOT NULL,
    minute     TIMESTAMP NOT NULL,
    version    INTEGER,                       -- NULL: events logged without a version
    requests   BIGINT NOT NULL,
    errors     BIGINT NOT NULL,
    latency_p50 DOUBLE,
    latency_p95 DOUBLE,
    latency_p99 DOUBLE,
    value_sum  DOUBLE,
    value_n    BIGINT NOT NULL,
    score_sum  DOUBLE,
    score_n    BIGINT NOT NULL,
    label_n    BIGINT NOT NULL,               -- events with a predicted class
    positive_n BIGINT NOT NULL                -- ... equal to the watermark's positive class
);

-- Minutes before `sealed_until` are rolled up, except those listed in rollup_dirty (events
-- that arrived for them later), which queries read from the events until re-rolled.
CREATE TABLE rollup_watermarks (
    model_id     VARCHAR PRIMARY KEY,
    sealed_until TIMESTAMP NOT NULL,
    positive     VARCHAR                      -- the positive class positive_n counts
);

CREATE TABLE rollup_dirty (
    model_id VARCHAR NOT NULL,
    minute   TIMESTAMP NOT NULL,
    PRIMARY KEY (model_id, minute)
);
