-- 001_init.sql: the first schema of a kmswatch database.
--
-- Strings that repeat (codes, API names, sources, categories) are interned
-- in `strings` so that records and rollups hold small integers.  Times are
-- integers: milliseconds since the epoch (UTC) in records, whole minutes
-- since the epoch in the rollups.

CREATE TABLE strings (
    id    INTEGER PRIMARY KEY,
    kind  INTEGER NOT NULL,          -- 1 code, 2 api, 3 source, 4 category,
                                     -- 5 message
    value TEXT NOT NULL,
    UNIQUE (kind, value)
);

-- One decoded Error, in the order it was stored.  Messages repeat (most
-- are a fixed template), so they are interned too.
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
    src_offset  INTEGER NOT NULL,            -- byte offset in the source
    message_id  INTEGER NOT NULL,
    request_id  TEXT NOT NULL
);
CREATE INDEX records_code_time ON records (code_id, time_ms);

-- RequestId -> record, through a 64-bit hash of the id's text as the
-- rowid.  Random UUIDs make any index on them take inserts all over the
-- tree; an integer key is a fraction of the size of the text, and the
-- writer inserts each batch's keys in sorted order at commit.  A match is
-- confirmed against records.request_id.  The rare id whose hash is taken
-- by another id goes to rid_overflow instead (daemon/ridindex.c).
CREATE TABLE rid_index (
    h  INTEGER PRIMARY KEY,
    id INTEGER NOT NULL
);
CREATE TABLE rid_overflow (
    request_id TEXT PRIMARY KEY,
    id         INTEGER NOT NULL
) WITHOUT ROWID;

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
