-- 004_alerts.sql: alert state, kept so that it survives restarts.
--
-- One row per episode of one rule on one code (and API, for rules that
-- judge per API; '' otherwise): pending from the first minute its
-- condition held, firing once it held for the rule's `for`, resolved once
-- it stayed false for the resolve delay.  A pending episode whose
-- condition stops before it fires is deleted, never resolved.  Times are
-- milliseconds since the epoch (UTC), on the data's own time line.
-- daemon/alertstate.c writes it; daemon/alerts.c decides what.

CREATE TABLE alerts (
    id          INTEGER PRIMARY KEY,
    rule        TEXT NOT NULL,
    code        TEXT NOT NULL,
    api         TEXT NOT NULL DEFAULT '',
    severity    TEXT NOT NULL,               -- info, warning, critical
    state       TEXT NOT NULL CHECK (state IN
                    ('pending', 'firing', 'resolved')),
    started_ms  INTEGER NOT NULL,            -- the condition first held
    fired_ms    INTEGER,                     -- NULL while pending
    resolved_ms INTEGER,                     -- NULL while active
    value       REAL NOT NULL,               -- the latest value
    peak        REAL NOT NULL,
    baseline    REAL NOT NULL,               -- expected when it started
    summary     TEXT NOT NULL,
    updated_ms  INTEGER NOT NULL             -- wall clock of the last write
);
CREATE UNIQUE INDEX alerts_episode ON alerts (rule, code, api, started_ms);
CREATE INDEX alerts_active ON alerts (state) WHERE state != 'resolved';
CREATE INDEX alerts_started ON alerts (started_ms);
CREATE INDEX alerts_resolved ON alerts (resolved_ms);
