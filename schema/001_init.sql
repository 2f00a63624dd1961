-- 001_init.sql: the first schema of a kmswatch database.
--
-- Strings that repeat (codes, API names, sources, categories) are interned
-- in `strings` so that records and rollups hold small integers.  Times are
-- integers: milliseconds since the epoch (UTC) in records, whole minutes
-- since the epoch in the rollups.

CREATE TABLE strings (
    id    INTEGER PRIMARY KEY,
    kind  INTEGER NOT NULL,          -- 1 code, 2 api, 3 source, 4 category
    value TEXT NOT NULL,
    UNIQUE (kind, value)
);

-- One decoded Error.  The RequestId is found through rid_hash, a 63-bit
-- hash of its text: an integer index is a fraction of the size of an index
-- on the text itself, which is what keeps ingest fast with random UUIDs.
-- A hash match is confirmed by comparing the text.
CREATE TABLE records (
    id          INTEGER PRIMARY KEY,
    time_ms     INTEGER NOT NULL,
    status      INTEGER NOT NULL,
    body_status INTEGER NOT NULL DEFAULT 0,  -- body StatusCode if it differed
    code_id     INTEGER NOT NULL,
    api_id      INTEGER NOT NULL DEFAULT 0,  -- 0 when the API is unknown
    source_id   INTEGER NOT NULL,
    category_id INTEGER NOT NULL,
    flags       INTEGER NOT NULL,            -- STORE_FLAG_* in store.h
    rid_hash    INTEGER NOT NULL,
    src_offset  INTEGER NOT NULL,            -- byte offset in the source
    request_id  TEXT NOT NULL,
    message     TEXT NOT NULL
);
CREATE INDEX records_rid ON records (rid_hash);
CREATE INDEX records_code_time ON records (code_id, time_ms);

-- Error counts per minute, kept current in the transaction that inserts
-- the records they count.
CREATE TABLE rollup_minute (
    minute      INTEGER NOT NULL,
    code_id     INTEGER NOT NULL,
    status      INTEGER NOT NULL,
    api_id      INTEGER NOT NULL,
    category_id INTEGER NOT NULL,
    count       INTEGER NOT NULL,
    PRIMARY KEY (minute, code_id, status, api_id, category_id)
) WITHOUT ROWID;

-- Successful (2xx) responses seen in captures, per minute and API, so that
-- error ratios can be computed.
CREATE TABLE responses_minute (
    minute INTEGER NOT NULL,
    api_id INTEGER NOT NULL,
    count  INTEGER NOT NULL,
    PRIMARY KEY (minute, api_id)
) WITHOUT ROWID;

-- Input that could not be decoded: where it was and why.
CREATE TABLE rejects (
    id         INTEGER PRIMARY KEY,
    time_ms    INTEGER NOT NULL,             -- when it was read
    source_id  INTEGER NOT NULL,
    src_offset INTEGER NOT NULL,
    reason     TEXT NOT NULL,
    detail     TEXT NOT NULL
);
