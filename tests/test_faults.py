"""Faults around the database.

Covers: a corrupt database file is refused at start, by serve and by
ingest, with a clear message, and left byte for byte as it was; a
database held locked by another writer makes ingest wait (SQLite's busy
handler backs off) and then succeed, losing nothing.
"""
import errno
import hashlib
import json
import os
import select
import socket
import sqlite3
import subprocess
import threading
import time
import urllib.error
import urllib.request

import pytest

from conftest import encode_error, generate, rfc3339, varint


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


# ---------------------------------------------------------------------------
# A full disk.  The database lives on a small tmpfs of its own; the
# followed file is on the ordinary disk, so only the store runs out.

FULL_FS_BYTES = 16 << 20
FULL_WAIT_S = 30


def jsonl_lines(truth, prefix=""):
    """gen.py's truth records as JSON Lines input (gen.py writes pb and
    http only); prefix renames the RequestIds, for a second copy."""
    out = []
    for t in truth:
        if t.get("ok"):
            continue
        line = {"StatusCode": t["status"], "ErrorCode": t["code"],
                "ErrorMessage": t["message"],
                "RequestId": prefix + t["request_id"],
                "time": rfc3339(t["time_ms"])}
        if t.get("api"):
            line["api"] = t["api"]
        out.append(json.dumps(line) + "\n")
    return out


def gen_truth(tmp_path, name, seed, count):
    cap = generate(tmp_path, name, "http", seed, count=count)
    return cap.truth


@pytest.fixture
def small_fs(tmp_path):
    """A tmpfs of FULL_FS_BYTES mounted under tmp_path; skipped where
    mounting is not allowed (not root, or in a container without
    CAP_SYS_ADMIN)."""
    mnt = tmp_path / "smallfs"
    mnt.mkdir()
    p = subprocess.run(["mount", "-t", "tmpfs", "-o",
                        "size=%d" % FULL_FS_BYTES, "tmpfs", str(mnt)],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if p.returncode != 0:
        pytest.skip("cannot mount a tmpfs to fill (needs root or "
                    "CAP_SYS_ADMIN): %s" % p.stderr.decode().strip())
    yield mnt
    subprocess.run(["umount", "-l", str(mnt)])


def fill(directory):
    """Writes a filler file until the file system refuses; returns it."""
    path = directory / "filler"
    block = b"\0" * 65536
    with open(path, "wb", buffering=0) as f:
        try:
            while True:
                f.write(block)
        except OSError as e:
            assert e.errno == errno.ENOSPC, e
        # Then the last bytes that a whole block did not fit in.
        try:
            while True:
                f.write(b"\0" * 512)
        except OSError:
            pass
    return path


def stored_ids(db):
    con = sqlite3.connect("file:%s?mode=ro" % db, uri=True, timeout=10)
    try:
        return [r[0] for r in con.execute("SELECT request_id FROM records")]
    finally:
        con.close()


def wait_for(cond, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return
        time.sleep(0.2)
    raise AssertionError("timed out waiting for " + what)


def push_jsonl(client, lines):
    req = urllib.request.Request(
        client.base + "/api/v1/ingest?format=jsonl",
        data="".join(lines).encode(), method="POST",
        headers={"Content-Type": "application/x-ndjson"})
    try:
        with urllib.request.urlopen(req, timeout=60) as resp:
            return resp.status, resp.headers, json.loads(resp.read())
    except urllib.error.HTTPError as e:
        return e.code, e.headers, json.loads(e.read())


def test_disk_full_pauses_and_resumes_losing_nothing(make_daemon, tmp_path,
                                                     small_fs):
    first = jsonl_lines(gen_truth(tmp_path, "first", 21, 300))
    second = jsonl_lines(gen_truth(tmp_path, "second", 22, 30000))
    pushed = jsonl_lines(gen_truth(tmp_path, "pushed", 23, 40000), "P-")
    src = tmp_path / "followed.jsonl"
    src.write_text("".join(first))
    db = small_fs / "full.db"
    cfg = tmp_path / "push.ini"
    cfg.write_text("[push]\nenabled = true\n")
    d = make_daemon(db, "--watch", "%s:jsonl" % src, "--retention", "0",
                    "--config", cfg)
    wait_for(lambda: len(stored_ids(db)) == len(first), 20,
             "the first records")

    filler = fill(small_fs)
    with open(src, "a") as f:
        f.write("".join(second))
    wait_for(lambda: "disk full; ingestion paused" in d.stderr(),
             FULL_WAIT_S, "the disk-full line")
    line = next(l for l in d.stderr().splitlines() if "disk full" in l)
    assert "level=warning" in line and "db=%s" % db in line
    assert "path=%s" % src in line

    # A push while full is refused as a whole, with a time to come back.
    status, headers, doc = push_jsonl(d.client, pushed)
    assert status == 507, (status, doc)
    assert doc["error"]["code"] == "disk_full"
    assert int(headers["Retry-After"]) > 0
    # It keeps retrying with a back-off, quietly: still one line, and
    # the daemon answers meanwhile.
    time.sleep(6)
    assert d.client.get("/healthz")[0] == 200
    assert d.stderr().count("disk full; ingestion paused") == 1
    assert len(stored_ids(db)) < len(first) + len(second)

    filler.unlink()
    want = sorted(json.loads(l)["RequestId"] for l in first + second)
    wait_for(lambda: len(stored_ids(db)) >= len(want), 60,
             "ingestion to resume")
    log = d.stderr()
    assert log.count("disk full; ingestion paused") == 1
    assert log.count("ingestion resumed") == 1
    got = stored_ids(db)
    assert sorted(got) == want              # all of it, each once
    assert not any(i.startswith("P-") for i in got)
    status, _, doc = push_jsonl(d.client, pushed)
    assert status == 200 and doc["accepted"] == len(pushed)
    d.assert_stops_cleanly()
    con = sqlite3.connect(str(db))
    assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    con.close()


# ---------------------------------------------------------------------------
# Many idle and half-open connections, and slow queries.

IDLE_CONNECTIONS = 300          # above API_CONNECTIONS_MAX (256)
PER_IP_MAX = 64                 # API_PER_IP_MAX in daemon/api.c
IDLE_TIMEOUT_S = 10             # API_TIMEOUT_S in daemon/api.c


def open_idle(port, n, source="127.0.0.2"):
    """n connections from another loopback address; every third sends
    half a request line and stops.  Returns the sockets."""
    socks = []
    for i in range(n):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.bind((source, 0))
        s.settimeout(5)
        try:
            s.connect(("127.0.0.1", port))
            if i % 3 == 0:
                s.sendall(b"GET /api/v1/stats HT")
        except OSError:
            pass
        socks.append(s)
    return socks


def still_open(socks):
    """How many of socks the server has not closed."""
    n = 0
    for s in socks:
        try:
            r, _, _ = select.select([s], [], [], 0)
            if not r:
                n += 1
                continue
            if s.recv(1, socket.MSG_PEEK):
                n += 1
        except OSError:
            pass
    return n


def test_idle_connections_do_not_lock_out_callers(make_daemon, tmp_path,
                                                  captures, kmswatch):
    db = tmp_path / "idle.db"
    cap = captures["small_pb"]
    assert kmswatch("ingest", "--db", db, cap.path).rc == 0
    d = make_daemon(db)
    rid = cap.errors[0]["request_id"]

    socks = open_idle(d.port, IDLE_CONNECTIONS)
    try:
        time.sleep(0.5)
        # One address holds at most its share; the rest were refused.
        assert still_open(socks) <= PER_IP_MAX
        for _ in range(3):
            t0 = time.monotonic()
            status, _, doc = d.client.get("/healthz")
            assert status == 200 and doc["records"] == len(cap.errors)
            status, _, doc = d.client.get("/api/v1/requests/" + rid)
            assert status == 200 and doc["request_id"] == rid
            assert time.monotonic() - t0 < 1.0
        # The server closes what it kept once it has been idle too long.
        wait_for(lambda: still_open(socks) == 0, IDLE_TIMEOUT_S + 10,
                 "the idle connections to be closed")
    finally:
        for s in socks:
            s.close()
    assert d.client.get("/healthz")[0] == 200


def test_slow_query_stops_at_the_time_limit(make_daemon, tmp_path,
                                            kmswatch):
    """A status no record has, without a code, scans every record: on
    200,000 that takes longer than a 10 ms limit, and is answered 503."""
    big = generate(tmp_path, "slow", "pb", 5, count=200000)
    db = tmp_path / "slow.db"
    assert kmswatch("ingest", "--db", db, big.path).rc == 0
    cfg = tmp_path / "limit.ini"
    cfg.write_text("[server]\nquery_timeout = 10ms\n")
    d = make_daemon(db, "--config", cfg)
    status, headers, doc = d.client.get("/api/v1/errors?status=599")
    assert status == 503, (status, doc)
    assert doc["error"]["code"] == "timeout"
    assert int(headers["Retry-After"]) > 0
    assert "query stopped at its time limit query=errors" in d.stderr()
    # The reader is fine afterwards; quick queries still answer.
    rid = big.errors[-1]["request_id"]
    assert d.client.get("/api/v1/requests/" + rid)[0] == 200
    assert d.client.get("/healthz")[0] == 200
    d.assert_stops_cleanly()

    # Under the default limit the same query completes.
    d = make_daemon(db)
    status, _, doc = d.client.get("/api/v1/errors?status=599")
    assert status == 200 and doc["items"] == []
