-- API tokens for the HTTP API. Only the sha256 of a secret is stored: the secret itself is
-- shown once, when the token is created. A revoked token keeps its row (and its name), so the
-- audit trail can always name who a token belonged to.
CREATE TABLE api_tokens (
    id            VARCHAR PRIMARY KEY,      -- "tok_" + 12 hex characters
    name          VARCHAR NOT NULL,         -- a slug, unique among all tokens (checked in core)
    role          VARCHAR NOT NULL,         -- viewer | operator | admin
    secret_sha256 VARCHAR NOT NULL,
    created_at    TIMESTAMP NOT NULL,
    created_by    VARCHAR NOT NULL,
    revoked_at    TIMESTAMP,
    revoked_by    VARCHAR,
    last_used_at  TIMESTAMP
);
