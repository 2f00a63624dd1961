"""Faults around the database.

Covers: a corrupt database file is refused at start, by serve and by
ingest, with a clear message, and left byte for byte as it was; a
database held locked by another writer makes ingest wait (SQLite's busy
handler backs off) and then succeed, losing nothing.
"""
import hashlib
import os
import sqlite3
import threading
import time

from conftest import encode_error, varint


def digest(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_corrupt_database_is_refused_not_overwritten(kmswatch, tmp_path,
                                                      captures):
    db = tmp_path / "corrupt.db"
    db.write_bytes(os.urandom(20000))
    before = digest(db)
    res = kmswatch("serve", "--db", db, "--listen", "127.0.0.1:0")
    assert res.rc == 3 and "file is not a database" in res.stderr
    res = kmswatch("ingest", "--db", db, captures["small_pb"].path)
    assert res.rc == 3 and "file is not a database" in res.stderr
    assert digest(db) == before
    assert not os.path.exists(str(db) + "-wal")


def test_locked_database_is_waited_for(kmswatch, tmp_path):
    db = tmp_path / "busy.db"
    msg = "The request was rejected because the key state is Disabled."
    first = encode_error(409, "Rejected.Disabled", msg, "BUSY-0001-AAAA")
    cap = tmp_path / "one.pb"
    cap.write_bytes(varint(len(first)) + first)
    assert kmswatch("ingest", "--db", db, cap).rc == 0

    body = encode_error(409, "Rejected.Disabled", msg, "BUSY-0002-AAAA")
    cap.write_bytes(varint(len(body)) + body)
    held = threading.Event()

    def hold_lock():
        con = sqlite3.connect(str(db), timeout=10)
        con.execute("BEGIN IMMEDIATE")
        held.set()
        time.sleep(1.5)
        con.rollback()
        con.close()

    t = threading.Thread(target=hold_lock)
    t.start()
    held.wait(5)
    t0 = time.monotonic()
    res = kmswatch("ingest", "--db", db, "--json", cap)
    waited = time.monotonic() - t0
    t.join()
    assert res.rc == 0, res
    assert res.json()["accepted"] == 1
    assert waited >= 1.0                 # it did wait for the lock
    assert kmswatch("lookup", "--db", db, "BUSY-0002-AAAA").rc == 0
