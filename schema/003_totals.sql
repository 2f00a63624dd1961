-- 003_totals.sql: running totals, kept in the transactions that change
-- them, so that health checks and the Prometheus endpoint read a few rows
-- instead of counting millions.

-- Errors ever stored, per code, status and API (api_id 0: unknown).  They
-- only grow: Prometheus counters.
CREATE TABLE totals (
    code_id INTEGER NOT NULL,
    status  INTEGER NOT NULL,
    api_id  INTEGER NOT NULL,
    count   INTEGER NOT NULL,
    PRIMARY KEY (code_id, status, api_id)
) WITHOUT ROWID;
INSERT INTO totals
    SELECT code_id, status, api_id, sum(count) FROM rollup_minute
    GROUP BY code_id, status, api_id;

-- 2xx responses ever seen, per API.
CREATE TABLE totals_responses (
    api_id INTEGER PRIMARY KEY,
    count  INTEGER NOT NULL
);
INSERT INTO totals_responses
    SELECT api_id, sum(count) FROM responses_minute GROUP BY api_id;

-- Rows held now: 'records' and 'rejects'.
CREATE TABLE counters (
    name  TEXT PRIMARY KEY,
    value INTEGER NOT NULL
) WITHOUT ROWID;
INSERT INTO counters VALUES ('records', (SELECT count(*) FROM records));
INSERT INTO counters VALUES ('rejects', (SELECT count(*) FROM rejects));
