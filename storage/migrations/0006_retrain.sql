-- Retrain policies: "when rule R fires for model M, train config C" (cooldown, one job at a
-- time per model), and every run they started or held back.
CREATE TABLE retrain_policies (
    id                VARCHAR PRIMARY KEY,
    model_id          VARCHAR NOT NULL,
    rule_id           VARCHAR NOT NULL,
    config_path       VARCHAR NOT NULL,
    cooldown_s        INTEGER NOT NULL,
    canary            JSON,                 -- {"steps", "interval_s", "guardrails"} or null
    is_active         BOOLEAN NOT NULL,
    created_at        TIMESTAMP NOT NULL,
    created_by        VARCHAR NOT NULL,
    deleted_at        TIMESTAMP
);

CREATE TABLE retrain_runs (
    policy_id  VARCHAR NOT NULL,
    seq        INTEGER NOT NULL,
    ran_at     TIMESTAMP NOT NULL,
    alert_id   VARCHAR,
    job_id     VARCHAR,
    outcome    VARCHAR NOT NULL,            -- triggered | cooldown | busy | failed | canary | no-canary
    detail     VARCHAR NOT NULL DEFAULT '',
    PRIMARY KEY (policy_id, seq)
);
