-- 005_rid_runs.sql: the RequestId index becomes a set of sorted runs.
--
-- Until now rid_index was keyed by a 64-bit hash of the RequestId, and
-- every commit inserted its hashes all over one big B-tree: once the tree
-- outgrew the page cache, each commit rewrote most of its leaves.  Now a
-- key is (run << 40) | h, where h is the low 40 bits of that hash and run
-- numbers a group of entries written together.  A new run takes keys above
-- every existing one, so writing it appends to the tree; a lookup probes
-- each run.  The writer merges runs of one level into a bigger run of the
-- next level, so that there are never more than a few dozen, a slice per
-- commit so that no commit waits long (daemon/ridindex.c).  A 40-bit
-- value held by another RequestId, in any run, sends the newcomer to
-- rid_overflow, as a full hash did before.

CREATE TABLE rid_runs (
    run      INTEGER PRIMARY KEY,        -- 1 .. 2^23 - 1
    level    INTEGER NOT NULL,           -- 0 as written, +1 per merge
    entries  INTEGER NOT NULL,           -- as written; retention lowers
                                         -- the true count, not this
    -- A merge moves its sources' entries to its target a slice of hashes
    -- per commit: a source names its target here ...
    into_run INTEGER NOT NULL DEFAULT 0,
    -- ... and the target holds the last hash moved (-1: none yet) until
    -- the merge is over, NULL after.
    progress INTEGER
);

-- Everything indexed so far becomes run 1, in the order of its new key.
CREATE TABLE rid_index_runs (
    h  INTEGER PRIMARY KEY,
    id INTEGER NOT NULL
);
INSERT OR IGNORE INTO rid_index_runs (h, id)
    SELECT (1 << 40) | (h & 1099511627775), id FROM rid_index
    ORDER BY h & 1099511627775;

-- Two ids that differed only above bit 40: the second goes to overflow.
INSERT INTO rid_overflow (request_id, id)
    SELECT r.request_id, x.id FROM rid_index x JOIN records r ON r.id = x.id
    WHERE x.id != (SELECT n.id FROM rid_index_runs n
                   WHERE n.h = (1 << 40) | (x.h & 1099511627775));

DROP TABLE rid_index;
ALTER TABLE rid_index_runs RENAME TO rid_index;
INSERT INTO rid_runs (run, level, entries)
    SELECT 1, 2, count(*) FROM rid_index HAVING count(*) > 0;
