-- 006_rollup_hour.sql: error and response counts per hour.
--
-- A month of minute rollups is tens of thousands of rows per code; stats
-- over long ranges read whole hours from here and only the ragged minutes
-- at either end from the minute tables, so their cost stays a few
-- thousand rows whatever the range.  Kept current in the transaction that
-- inserts the records they count, like the minute tables.

CREATE TABLE rollup_hour (
    hour        INTEGER NOT NULL,        -- whole hours since the epoch
    code_id     INTEGER NOT NULL,
    status      INTEGER NOT NULL,
    api_id      INTEGER NOT NULL,
    category_id INTEGER NOT NULL,
    count       INTEGER NOT NULL,
    PRIMARY KEY (hour, code_id, status, api_id, category_id)
) WITHOUT ROWID;
INSERT INTO rollup_hour
    SELECT minute / 60, code_id, status, api_id, category_id, sum(count)
    FROM rollup_minute GROUP BY minute / 60, code_id, status, api_id,
    category_id;

CREATE TABLE responses_hour (
    hour   INTEGER NOT NULL,
    api_id INTEGER NOT NULL,
    count  INTEGER NOT NULL,
    PRIMARY KEY (hour, api_id)
) WITHOUT ROWID;
INSERT INTO responses_hour
    SELECT minute / 60, api_id, sum(count) FROM responses_minute
    GROUP BY minute / 60, api_id;
