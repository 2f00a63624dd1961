-- 008_code_minutes.sql: each code's minute counts, an hour to a row.
--
-- A week of one code at steps under an hour is 10,080 rows of
-- code_minute; here it is 168, each holding its hour's 60 minute counts
-- as 32-bit little-endian integers (240 bytes).  Derived from code_minute
-- and kept equal to it: the writer rewrites the rows of the hours each
-- batch touched, retention those of the hour it cuts, and the store fills
-- the table from code_minute when it applies this migration (store.c,
-- code_minutes_fill).
CREATE TABLE code_minutes (
    code_id INTEGER NOT NULL,
    hour    INTEGER NOT NULL,
    counts  BLOB NOT NULL,
    PRIMARY KEY (code_id, hour)
) WITHOUT ROWID;
