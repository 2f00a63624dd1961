"""Faults around the database, the disk and the network.

Covers: a corrupt database file is refused at start, by serve and by
ingest, with a clear message, and left byte for byte as it was; a
database held locked by another writer makes ingest wait (SQLite's busy
handler backs off) and then succeed, losing nothing; a full disk (a
small tmpfs, filled) pauses following with one log line, answers pushes
507, and loses nothing once space returns; 300 idle or half-sent
connections leave the API answering others and are closed after the idle
timeout; a slow query stops at the per-request time limit with a 503;
SIGKILL during retention, during migrations and around alert-state
writes leaves an intact database whose running totals match its tables.
"""
import datetime
import errno
import hashlib
import json
import os
import random
import select
import signal
import socket
import sqlite3
import struct
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

import pytest

from conftest import (BINARY, GEN, REPO, encode_error, generate, rfc3339,
                      varint)


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


# ---------------------------------------------------------------------------
# SIGKILL in every phase: retention, migrations, alert state.  Each test
# kills at random moments, restarts, and checks what a crash must never
# break: committed data, the database's integrity, and the running totals
# against the tables they summarise.

def spawn(args, log):
    """Starts kmswatch with args, stderr appended to log; no waiting."""
    with open(log, "ab") as err:
        return subprocess.Popen([str(BINARY)] + [str(a) for a in args],
                                stdin=subprocess.DEVNULL,
                                stdout=subprocess.DEVNULL, stderr=err)


def kill_after(proc, delay):
    time.sleep(delay)
    proc.send_signal(signal.SIGKILL)
    proc.wait()


def query(db, sql):
    con = sqlite3.connect("file:%s?mode=ro" % db, uri=True, timeout=10)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def assert_consistent(db):
    """Integrity, and every running total equal to what it summarises."""
    assert query(db, "PRAGMA integrity_check") == [("ok",)]
    records = query(db, "SELECT count(*) FROM records")[0][0]
    counters = dict(query(db, "SELECT name, value FROM counters"))
    assert counters["records"] == records
    rejects = query(db, "SELECT count(*) FROM rejects")[0][0]
    assert counters["rejects"] == rejects
    # Each record has its RequestId index entry, and no entry is stale.
    indexed = query(db, "SELECT (SELECT count(*) FROM rid_index) +"
                    " (SELECT count(*) FROM rid_overflow)")[0][0]
    assert indexed == records
    # Totals count everything ever stored, as the rollups do (retention
    # deletes records, never rollups of this age).
    assert query(db, "SELECT coalesce(sum(count), 0) FROM totals") == \
        query(db, "SELECT coalesce(sum(count), 0) FROM rollup_minute")
    assert query(db, "SELECT coalesce(sum(count), 0) FROM totals_responses"
                 ) == query(db, "SELECT coalesce(sum(count), 0)"
                            " FROM responses_minute")
    # The hourly and per-code rollups sum the minutes; every index key is
    # in a run.
    minutes = query(db, "SELECT coalesce(sum(count), 0) FROM rollup_minute")
    for table in ("rollup_hour", "code_minute", "code_hour"):
        assert query(db, "SELECT coalesce(sum(count), 0) FROM " + table) \
            == minutes, table
    assert query(db, "SELECT count(*) FROM rid_index x WHERE NOT EXISTS"
                 " (SELECT 1 FROM rid_runs u WHERE u.run = x.h >> 40)"
                 ) == [(0,)]
    assert code_minutes(db) == dict(
        ((c, m), n) for c, m, n in query(
            db, "SELECT code_id, minute, count FROM code_minute"))
    return records


def code_minutes(db):
    """code_minutes unpacked: {(code_id, minute): count} of its nonzero
    minutes, each row 60 little-endian 32-bit counts of one hour."""
    out = {}
    for code, hour, blob in query(db, "SELECT code_id, hour, counts"
                                  " FROM code_minutes"):
        assert len(blob) == 240, (code, hour)
        for k, n in enumerate(struct.unpack("<60I", blob)):
            if n:
                out[(code, hour * 60 + k)] = n
    return out


def http_capture(tmp_path, name, seed, count, start_s, duration_s):
    path = tmp_path / (name + ".http")
    truth = tmp_path / (name + ".truth")
    p = subprocess.run([sys.executable, str(GEN), "--scenario",
                        str(REPO / "tests" / "scenarios" / "basic.json"),
                        "--format", "http", "--out", str(path), "--truth",
                        str(truth), "--seed", str(seed), "--count",
                        str(count), "--start", str(start_s), "--duration",
                        str(duration_s)],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=120)
    assert p.returncode == 0, p.stderr.decode()
    with open(truth, encoding="utf-8") as f:
        ids = [json.loads(l)["request_id"] for l in f if '"ok"' not in l]
    return path, ids


def test_sigkill_during_retention(kmswatch, tmp_path):
    rnd = random.Random(7)
    now = int(time.time())
    old, old_ids = http_capture(tmp_path, "old", 31, 40000,
                                now - 90 * 86400, 86400)
    new, new_ids = http_capture(tmp_path, "new", 32, 2000, now - 3600,
                                3000)
    db = tmp_path / "ret.db"
    res = kmswatch("ingest", "--db", db, "--json", old, new)
    assert res.rc == 0, res
    n_old = len(query(db, "SELECT 1 FROM records WHERE time_ms < %d"
                      % ((now - 30 * 86400) * 1000)))
    assert n_old == len(old_ids) and n_old > 30000
    log = tmp_path / "serve.err"

    def old_left():
        return query(db, "SELECT count(*) FROM records WHERE time_ms < %d"
                     % ((now - 30 * 86400) * 1000))[0][0]

    partial, kills = 0, 0
    while kills < 12:
        before = old_left()
        p = spawn(["serve", "--db", db, "--listen", "127.0.0.1:0",
                   "--retention", "30d"], log)
        # Start-up takes a while under sanitizers or load: kill once the
        # first batch of this round is gone, a moment into the next one.
        deadline = time.monotonic() + 30
        while old_left() == before and time.monotonic() < deadline:
            time.sleep(0.01)
        kill_after(p, rnd.uniform(0, 0.05))
        kills += 1
        left = old_left()
        if 0 < left < n_old:
            partial += 1
        if left == 0:
            break
        assert_consistent(db)
    # Some kill landed while batches were being deleted.
    assert partial >= 1, "no kill landed mid-retention (%d kills)" % kills

    # A last, clean run finishes the job.
    p = spawn(["serve", "--db", db, "--listen", "127.0.0.1:0",
               "--retention", "30d"], log)
    try:
        wait_for(lambda: query(db, "SELECT count(*) FROM records WHERE"
                               " time_ms < %d" % ((now - 30 * 86400) * 1000)
                               )[0][0] == 0, 30, "retention to finish")
    finally:
        kill_after(p, 0)
    assert assert_consistent(db) == len(new_ids)
    got = sorted(r[0] for r in query(db, "SELECT request_id FROM records"))
    assert got == sorted(new_ids)           # no newer record lost
    assert query(db, "SELECT sum(count) FROM totals")[0][0] == \
        len(old_ids) + len(new_ids)         # totals still count them all


LATEST = len(list((REPO / "schema").glob("[0-9][0-9][0-9]_*.sql")))


def old_rid_hash(text):
    """The key schema versions 1 to 4 indexed a RequestId by: the 64-bit
    hash of daemon/hash.h (FNV-1a, then a finaliser), as a signed int."""
    mask = (1 << 64) - 1
    h = 0xcbf29ce484222325
    for b in text.encode():
        h = ((h ^ b) * 0x100000001b3) & mask
    for mul in (0xff51afd7ed558ccd, 0xc4ceb9fe1a85ec53):
        h = ((h ^ (h >> 33)) * mul) & mask
    h ^= h >> 33
    return h - (1 << 64) if h >> 63 else h


def revert_to_v2(db):
    """Undoes every migration after 002; their tables hold nothing that
    cannot be rebuilt from the records and the minute rollups: totals
    (003), alert state (004, empty here), the RequestId index's runs (005:
    the index goes back to one key per full hash), the hourly rollups
    (006), the per-code ones (007) and their minutes by the hour
    (008)."""
    con = sqlite3.connect(str(db))
    con.executescript("DROP TABLE alerts; DROP TABLE totals;"
                      " DROP TABLE totals_responses; DROP TABLE counters;"
                      " DROP TABLE rid_runs; DROP TABLE rollup_hour;"
                      " DROP TABLE responses_hour; DROP TABLE code_minute;"
                      " DROP TABLE code_hour; DROP TABLE code_minutes;"
                      " DELETE FROM rid_index; DELETE FROM rid_overflow;")
    rows = con.execute("SELECT id, request_id FROM records"
                       " WHERE request_id != ''").fetchall()
    con.executemany("INSERT INTO rid_index (h, id) VALUES (?, ?)",
                    [(old_rid_hash(rid), i) for i, rid in rows])
    con.commit()
    con.execute("PRAGMA user_version = 2")
    con.close()


def test_sigkill_during_migration(kmswatch, tmp_path, captures):
    rnd = random.Random(11)
    db = tmp_path / "mig.db"
    big = captures["http"]
    assert kmswatch("ingest", "--db", db, big.path).rc == 0
    expect = assert_consistent(db)
    empty = tmp_path / "empty.pb"
    empty.write_bytes(b"")
    log = tmp_path / "mig.err"
    versions = set()
    for i in range(8):
        if query(db, "PRAGMA user_version")[0][0] == LATEST:
            revert_to_v2(db)
        for _ in range(3):
            p = spawn(["ingest", "--db", db, empty], log)
            kill_after(p, rnd.uniform(0, 0.03))
            v = query(db, "PRAGMA user_version")[0][0]
            assert 2 <= v <= LATEST         # never a version half applied
            versions.add(v)
            if v >= 3:
                tables = {r[0] for r in query(
                    db, "SELECT name FROM sqlite_master WHERE type='table'")}
                assert {"totals", "counters"} <= tables
    res = kmswatch("ingest", "--db", db, "--json", empty)
    assert res.rc == 0, res
    assert query(db, "PRAGMA user_version") == [(LATEST,)]
    assert assert_consistent(db) == expect
    res = kmswatch("stats", "--db", db, "--json")
    assert res.rc == 0, res
    assert versions - {LATEST}, versions


SPIKE = REPO / "tests" / "scenarios" / "spike.json"


def spike_now(tmp_path):
    """The spike scenario shifted so that its burst ended ten minutes ago
    and its data ends now (as test_alerts_backtest.py's live test)."""
    with open(SPIKE, encoding="utf-8") as f:
        sc = json.load(f)
    t0 = datetime.datetime.fromisoformat(sc["start"].replace("Z", "+00:00"))
    at = datetime.datetime.fromisoformat(
        sc["spikes"][0]["at"].replace("Z", "+00:00"))
    lead = int((at - t0).total_seconds())
    now = int(time.time()) // 60 * 60
    start = now - lead - 10 * 60
    out = tmp_path / "spike.http"
    p = subprocess.run([sys.executable, str(GEN), "--scenario", str(SPIKE),
                        "--format", "http", "--with-ok", "--out", str(out),
                        "--truth", str(tmp_path / "spike.truth"),
                        "--start", str(start), "--duration",
                        str(lead + 10 * 60)],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=120)
    assert p.returncode == 0, p.stderr.decode()
    return out


def active_alerts(client):
    status, _, doc = client.get("/api/v1/alerts")
    assert status == 200, doc
    return sorted((a["rule"], a["code"], a.get("api") or "",
                   a["started_at"], a["state"]) for a in doc["alerts"])


def test_sigkill_while_alert_state_is_written(kmswatch, make_daemon,
                                              tmp_path):
    rnd = random.Random(5)
    cap = spike_now(tmp_path)
    db, ref = tmp_path / "alerts.db", tmp_path / "ref.db"
    assert kmswatch("ingest", "--db", db, cap).rc == 0
    assert kmswatch("ingest", "--db", ref, cap).rc == 0

    # What an uninterrupted daemon settles on, and how soon it writes.
    t0 = time.monotonic()
    d = make_daemon(ref)
    wait_for(lambda: any(a[0] == "key-disabled" and a[4] == "firing"
                         for a in active_alerts(d.client)), 30,
             "the burst's alert in the reference run")
    first_write_s = time.monotonic() - t0
    want = active_alerts(d.client)
    d.assert_stops_cleanly()

    # Kill the daemon and the alerts command around their first writes:
    # every other round starts from no stored state, so that the kill
    # can land before, during or after the engine writes it.
    log = tmp_path / "kills.err"
    episodes = {a[:4] for a in want}
    seen = set()
    for i in range(12):
        if i % 2 == 0:
            con = sqlite3.connect(str(db))
            con.execute("DELETE FROM alerts")
            con.commit()
            con.close()
        p = spawn(["serve", "--db", db, "--listen", "127.0.0.1:0"], log)
        kill_after(p, rnd.uniform(0, first_write_s * 1.5))
        rows = query(db, "SELECT rule, code, api, started_ms FROM alerts"
                     " WHERE state != 'resolved'")
        if i % 2 == 0:
            seen.add(len(rows) > 0)
        # Whatever was written is an episode the clean run has too.
        assert {(r, c, a, rfc3339(ms)) for r, c, a, ms in rows} <= \
            episodes, rows
        p = spawn(["alerts", "--db", db, "--json"], log)
        kill_after(p, rnd.uniform(0, 0.2))
    # The kills fell both before and after the state was written.
    assert seen == {False, True}, seen
    assert query(db, "PRAGMA integrity_check") == [("ok",)]
    assert query(db, "SELECT rule, code, api, count(*) FROM alerts"
                 " WHERE state != 'resolved' GROUP BY 1, 2, 3"
                 " HAVING count(*) > 1") == []

    d = make_daemon(db)
    wait_for(lambda: active_alerts(d.client) == want, 30,
             "the same alerts as the uninterrupted run")
    assert query(db, "SELECT rule, code, api, count(*) FROM alerts"
                 " WHERE state != 'resolved' GROUP BY 1, 2, 3"
                 " HAVING count(*) > 1") == []
    # Alerting goes on: a code no catalog knows, stored now, fires.
    msg = "Something new."
    body = encode_error(400, "Kill.NewCode", msg, "KILL-NEW-0001")
    fresh = tmp_path / "fresh.pb"
    fresh.write_bytes(varint(len(body)) + body)
    assert kmswatch("ingest", "--db", db, fresh).rc == 0
    wait_for(lambda: any(a[0] == "new-code" and a[1] == "Kill.NewCode"
                         for a in active_alerts(d.client)), 30,
             "a new-code alert after the restarts")
    d.assert_stops_cleanly()
    assert query(db, "PRAGMA integrity_check") == [("ok",)]
