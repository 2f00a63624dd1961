#!/usr/bin/python3
"""naive.py - what a user would write instead of kmswatch, the lower peer
that `make bench` sets beside kmswatch's ingest rate.

It models the obvious script: python3-protobuf decodes the varint
length-delimited Error messages (writeDelimitedTo framing) and the standard
sqlite3 module stores them in the schema anyone would write first,

    CREATE TABLE errors(id INTEGER PRIMARY KEY, request_id TEXT UNIQUE,
                        status INTEGER, code TEXT, message TEXT,
                        time_ms INTEGER)
    CREATE INDEX errors_code_time ON errors(code, time_ms)

deduplicating by RequestId with INSERT OR IGNORE, in WAL mode, with
executemany in transactions of 10,000 rows.  Nothing in it is careless:
what limits it is that schema.  The UNIQUE text index on request_id puts
each random 36-byte UUID at a random place in a B-tree that soon outgrows
the page cache, so every insert touches (and every commit rewrites) pages
all over the index; the (code, time_ms) index adds a second B-tree to
update per row.  kmswatch answers the same questions (dedupe, lookup by
RequestId, counts by code over time) with an index of integer hashes kept
as sorted runs that are appended, never inserted at random
(docs/storage.md).

As kmswatch gives pb records the time of ingest, time_ms is the wall clock
in ms when the script starts, the same for every row.  synchronous=NORMAL
is set as kmswatch and raw_ceiling set it, so all three keep the same
durability.

The Error class is built at run time from a FileDescriptorProto, so no
protoc step is needed (proto/kms_error.proto: int32 StatusCode = 1;
string ErrorCode = 2; string ErrorMessage = 3; string RequestId = 4).

The clock runs from opening the database to closing it after the final
commit, reading and decoding the file included: it is the whole script.

Usage: naive.py DB PBFILE
DB must not hold an `errors` table yet (use a fresh file).  Prints one JSON
line:
    {"peer":"naive_python","rows":N,"inserted":M,"seconds":S,
     "rows_per_s":R}
rows counts decoded messages, inserted those stored (not duplicates).
Exits 1 with a message on a malformed frame (naming its byte offset) or on
an SQLite error.
"""
import json
import sqlite3
import sys
import time

from google.protobuf import descriptor_pb2, descriptor_pool, message_factory
from google.protobuf.message import DecodeError
from google.protobuf.internal.decoder import _DecodeVarint32

BATCH = 10000

SCHEMA = """
CREATE TABLE errors(id INTEGER PRIMARY KEY, request_id TEXT UNIQUE,
                    status INTEGER, code TEXT, message TEXT,
                    time_ms INTEGER);
CREATE INDEX errors_code_time ON errors(code, time_ms);
"""

INSERT = ("INSERT OR IGNORE INTO errors"
          " (request_id, status, code, message, time_ms)"
          " VALUES (?, ?, ?, ?, ?)")


class BadFrame(Exception):
    pass


def error_class():
    """api.Error, built from a descriptor instead of protoc output."""
    fdp = descriptor_pb2.FileDescriptorProto(
        name="kms_error.proto", package="api", syntax="proto3")
    msg = fdp.message_type.add(name="Error")
    field = descriptor_pb2.FieldDescriptorProto
    for number, name, ftype in ((1, "StatusCode", field.TYPE_INT32),
                                (2, "ErrorCode", field.TYPE_STRING),
                                (3, "ErrorMessage", field.TYPE_STRING),
                                (4, "RequestId", field.TYPE_STRING)):
        msg.field.add(name=name, number=number, type=ftype,
                      label=field.LABEL_OPTIONAL)
    pool = descriptor_pool.DescriptorPool()
    pool.Add(fdp)
    desc = pool.FindMessageTypeByName("api.Error")
    if hasattr(message_factory, "GetMessageClass"):    # protobuf >= 4.22
        return message_factory.GetMessageClass(desc)
    return message_factory.MessageFactory(pool).GetPrototype(desc)


def records(data, error):
    """Yields each delimited Error in data; BadFrame at the first bad one."""
    pos, n, end = 0, 0, len(data)
    while pos < end:
        frame = pos
        try:
            size, pos = _DecodeVarint32(data, pos)
        except (IndexError, DecodeError):
            raise BadFrame(f"bad frame {n + 1} at byte offset {frame}:"
                           " bad length varint")
        if size > end - pos:
            raise BadFrame(f"bad frame {n + 1} at byte offset {frame}:"
                           f" frame of {size} bytes runs past the end of"
                           f" the file ({end - pos} left)")
        msg = error()
        try:
            msg.ParseFromString(data[pos:pos + size])
        except DecodeError as e:
            raise BadFrame(f"bad frame {n + 1} at byte offset {frame}: {e}")
        pos += size
        n += 1
        yield msg


def ingest(db_path, pb_path):
    error = error_class()
    now_ms = int(time.time() * 1000)
    t0 = time.monotonic()
    conn = sqlite3.connect(db_path)
    try:
        mode = conn.execute("PRAGMA journal_mode=WAL").fetchone()[0]
        if mode != "wal":
            raise sqlite3.OperationalError(f"journal_mode is {mode},"
                                           " not wal")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.executescript(SCHEMA)
        with open(pb_path, "rb") as f:
            data = f.read()
        rows, batch = 0, []
        for msg in records(data, error):
            batch.append((msg.RequestId, msg.StatusCode, msg.ErrorCode,
                          msg.ErrorMessage, now_ms))
            if len(batch) == BATCH:
                conn.executemany(INSERT, batch)
                conn.commit()
                rows += len(batch)
                batch = []
        if batch:
            conn.executemany(INSERT, batch)
            conn.commit()
            rows += len(batch)
        inserted = conn.total_changes
    finally:
        conn.close()
    seconds = time.monotonic() - t0
    return {"peer": "naive_python", "rows": rows, "inserted": inserted,
            "seconds": round(seconds, 3),
            "rows_per_s": round(rows / seconds) if seconds > 0 else 0}


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: naive.py DB PBFILE")
    db_path, pb_path = sys.argv[1:]
    try:
        result = ingest(db_path, pb_path)
    except BadFrame as e:
        sys.exit(f"naive.py: {pb_path}: {e}")
    except OSError as e:
        sys.exit(f"naive.py: {e.filename or pb_path}: {e.strerror}")
    except sqlite3.Error as e:
        sys.exit(f"naive.py: {db_path}: {e}")
    print(json.dumps(result, separators=(",", ":")))


if __name__ == "__main__":
    main()
