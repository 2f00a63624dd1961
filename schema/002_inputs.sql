-- 002_inputs.sql: how far each input has been read, and rejects stored
-- once per place.
--
-- An input is known by its source name and recognised by a hash of its
-- first bytes (and, for followed files, device and inode), so that a file
-- replaced under the same name is read again from its start.  The offset
-- is written in the same transaction as the records it covers.

CREATE TABLE inputs (
    source     TEXT PRIMARY KEY,
    dev        INTEGER NOT NULL DEFAULT 0,
    ino        INTEGER NOT NULL DEFAULT 0,
    head_len   INTEGER NOT NULL,             -- bytes of the head hashed
    head_hash  INTEGER NOT NULL,             -- hash of those bytes
    done       INTEGER NOT NULL,             -- bytes read and stored
    updated_ms INTEGER NOT NULL
) WITHOUT ROWID;

-- Reading an input again must not store its rejects twice.
DELETE FROM rejects WHERE id NOT IN
    (SELECT min(id) FROM rejects GROUP BY source_id, src_offset);
CREATE UNIQUE INDEX rejects_at ON rejects (source_id, src_offset);
