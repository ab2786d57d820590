-- Training jobs with their trials and logs; what each trained version was validated against;
-- and the reference profile that drift detection compares live traffic with.
CREATE TABLE training_jobs (
    id             VARCHAR PRIMARY KEY,
    model_id       VARCHAR NOT NULL,
    status         VARCHAR NOT NULL,
    config         JSON NOT NULL,
    config_path    VARCHAR,
    progress       DOUBLE NOT NULL DEFAULT 0,
    message        VARCHAR NOT NULL DEFAULT '',
    trials_done    INTEGER NOT NULL DEFAULT 0,
    trials_total   INTEGER NOT NULL DEFAULT 0,
    best_score     DOUBLE,
    error          VARCHAR,
    result_version INTEGER,
    outcome        VARCHAR,          -- validated | rejected, once succeeded
    actor          VARCHAR NOT NULL,
    created_at     TIMESTAMP NOT NULL,
    started_at     TIMESTAMP,
    finished_at    TIMESTAMP
);

CREATE TABLE training_trials (
    job_id     VARCHAR NOT NULL,
    number     INTEGER NOT NULL,
    params     JSON NOT NULL,
    score      DOUBLE,
    std        DOUBLE,
    fit_time_s DOUBLE NOT NULL,
    status     VARCHAR NOT NULL,
    error      VARCHAR,
    resources  INTEGER,
    iteration  INTEGER,
    PRIMARY KEY (job_id, number)
);

CREATE TABLE training_logs (
    job_id  VARCHAR NOT NULL,
    seq     INTEGER NOT NULL,
    logged_at TIMESTAMP NOT NULL,
    level   VARCHAR NOT NULL,
    message VARCHAR NOT NULL,
    PRIMARY KEY (job_id, seq)
);

CREATE TABLE version_training (
    version_id  VARCHAR PRIMARY KEY,      -- model_versions.id
    config      JSON NOT NULL,
    seed        INTEGER,
    data_path   VARCHAR,
    data_rows   BIGINT,
    validation  JSON NOT NULL             -- {"metrics", "gates": [...], "champion_version", ...}
);

CREATE TABLE version_profiles (
    version_id VARCHAR PRIMARY KEY,
    profile    JSON NOT NULL
);

CREATE TABLE reference_samples (
    version_id VARCHAR NOT NULL,
    feature    VARCHAR NOT NULL,
    vals       DOUBLE[] NOT NULL,         -- sorted ascending
    PRIMARY KEY (version_id, feature)
);
