-- A/B tests between model versions of one model. While running, a test owns the model's
-- production traffic map; `periods` records when it was exposing traffic and with which split
-- (pause and split changes close a period), so the analysis and the sample-ratio check only
-- count events served under the test, against the split that was in force.
CREATE TABLE ab_tests (
    id               VARCHAR PRIMARY KEY,
    model_id         VARCHAR NOT NULL,
    name             VARCHAR NOT NULL,
    environment      VARCHAR NOT NULL,
    versions         JSON NOT NULL,           -- ["v2", "v3"]: the first is the control
    split            JSON NOT NULL,           -- {"v2": 50.0, "v3": 50.0}: percent, sums to 100
    config           JSON NOT NULL,           -- unit, metrics, alpha, power, mde, method, ...
    status           VARCHAR NOT NULL,        -- draft | running | paused | stopped | completed
    pre_test_traffic JSON,                    -- production map before start, restored on stop
    periods          JSON NOT NULL,           -- [{"start", "end" | null, "split"}]
    results          JSON,                    -- frozen analysis once stopped or completed
    winner           VARCHAR,
    owned_revision   INTEGER,                 -- the production revision the test last wrote
    created_by       VARCHAR NOT NULL,
    reason           VARCHAR NOT NULL DEFAULT '',
    created_at       TIMESTAMP NOT NULL,
    started_at       TIMESTAMP,
    ended_at         TIMESTAMP,
    updated_at       TIMESTAMP NOT NULL
);
