-- The keys that seal the audit chain with HMAC-SHA256. A key itself is never stored here: it
-- is the file `audit.key` in the store directory (0600). One row per key, from the record it
-- first sealed (`keyed_from`); `key_id` names the key without revealing it. Records before the
-- first row's `keyed_from` were written by an mlc without keys and keep their unkeyed sha256
-- chain. A later row starts when `audit.key` was missing (or another key) at open: records
-- sealed with the key it replaced can no longer be checked, and `mlc audit verify` says so.
CREATE TABLE audit_keys (
    keyed_from BIGINT PRIMARY KEY,
    key_id     VARCHAR NOT NULL,
    created_at TIMESTAMP NOT NULL,
    reason     VARCHAR NOT NULL
);
