-- Prediction requests refused as invalid client input (HTTP 400): counted per model apart
-- from the versions' traffic, which they never reached. Rows come through the event journal
-- like prediction events; `items` is how many predictions the refused request asked for.
CREATE TABLE invalid_requests (
    model_id    VARCHAR NOT NULL,
    ts          TIMESTAMP NOT NULL,
    environment VARCHAR,
    items       INTEGER NOT NULL,
    reason      VARCHAR,
    source      VARCHAR NOT NULL
);
