-- 007_code_rollups.sql: error counts per code only, per minute and hour.
--
-- The wide rollups keep every (code, status, API, category) apart, a few
-- hundred rows a minute on a busy service; stats by code and time series
-- need the code alone, about a tenth of that.  Keyed by code first, so
-- that one code's series is one range of the table; queries walk the
-- codes (strings of kind 1) and read each one's range.  Kept current in
-- the transaction that inserts the records they count.

CREATE TABLE code_minute (
    code_id INTEGER NOT NULL,
    minute  INTEGER NOT NULL,
    count   INTEGER NOT NULL,
    PRIMARY KEY (code_id, minute)
) WITHOUT ROWID;
INSERT INTO code_minute
    SELECT code_id, minute, sum(count) FROM rollup_minute
    GROUP BY code_id, minute;

CREATE TABLE code_hour (
    code_id INTEGER NOT NULL,
    hour    INTEGER NOT NULL,
    count   INTEGER NOT NULL,
    PRIMARY KEY (code_id, hour)
) WITHOUT ROWID;
INSERT INTO code_hour
    SELECT code_id, hour, sum(count) FROM rollup_hour
    GROUP BY code_id, hour;
