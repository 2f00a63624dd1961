"""Following sources with `kmswatch serve --watch` and `[source]` sections.

Covers: records appended to a followed file become visible; a message
written in two parts waits for the rest; rotation by rename and by
copytruncate; a directory receiving new files; a file deleted and
recreated; a restart resuming where it stopped; `start = end`; SIGHUP
reloading the sources; and exactly once: the daemon killed with SIGKILL at
random moments while a writer appends, then every record and every 2xx
response stored once.
"""
import os
import random
import shutil
import signal
import sqlite3
import time

import pytest

from conftest import encode_error, http_exchange, varint

VISIBLE_TIMEOUT_S = 5.0
MSG = "The request was rejected because the key state is Disabled."


def frame(rid, code="Rejected.Disabled", status=409, message=MSG):
    body = encode_error(status, code, message, rid)
    return varint(len(body)) + body


def frames(prefix, n, start=0):
    ids = ["%s-%04d-AAAA" % (prefix, i) for i in range(start, start + n)]
    return ids, b"".join(frame(i) for i in ids)


def append(path, data):
    with open(path, "ab") as f:
        f.write(data)
        f.flush()


def found(client, rid):
    status, _, _ = client.get("/api/v1/requests/" + rid)
    return status == 200


def wait_visible(client, ids, timeout=VISIBLE_TIMEOUT_S):
    deadline = time.monotonic() + timeout
    missing = list(ids)
    while missing and time.monotonic() < deadline:
        missing = [i for i in missing if not found(client, i)]
        if missing:
            time.sleep(0.05)
    assert not missing, "not visible within %.0f s: %s" % (timeout,
                                                            missing[:5])


def health(client):
    status, _, doc = client.get("/healthz")
    assert status == 200
    return doc


def stored(db):
    con = sqlite3.connect(str(db))
    try:
        ids = [r[0] for r in con.execute("SELECT request_id FROM records")]
        ok = con.execute("SELECT coalesce(sum(count), 0)"
                         " FROM responses_minute").fetchone()[0]
        rejects = con.execute("SELECT count(*) FROM rejects").fetchone()[0]
    finally:
        con.close()
    return ids, ok, rejects


def test_append_becomes_visible(make_daemon, tmp_path):
    path = tmp_path / "a.pb"
    ids, data = frames("APP", 3)
    path.write_bytes(data)
    d = make_daemon(tmp_path / "f.db", "--watch", "%s:pb" % path)
    wait_visible(d.client, ids)
    more, data = frames("APP", 3, start=3)
    append(path, data)
    t0 = time.monotonic()
    wait_visible(d.client, more)
    assert time.monotonic() - t0 < 2.0
    assert health(d.client)["records"] == 6


def test_partial_message_waits_for_the_rest(make_daemon, tmp_path):
    path = tmp_path / "p.pb"
    path.write_bytes(b"")
    d = make_daemon(tmp_path / "f.db", "--watch", "%s:pb" % path)
    ids, data = frames("PART", 2)
    cut = len(frame(ids[0])) + 7
    append(path, data[:cut])
    wait_visible(d.client, ids[:1])
    time.sleep(1.2)                 # two polls, at least
    assert not found(d.client, ids[1])
    assert health(d.client)["rejects"] == 0
    append(path, data[cut:])
    wait_visible(d.client, ids[1:])
    assert health(d.client)["rejects"] == 0


def test_rename_rotation_reads_old_then_new(make_daemon, tmp_path):
    path = tmp_path / "r.pb"
    first, data = frames("ROT", 2)
    path.write_bytes(data)
    d = make_daemon(tmp_path / "f.db", "--watch", "%s:pb" % path)
    wait_visible(d.client, first)
    # The writer adds to the old file, then rotates and starts a new one.
    late, data = frames("ROT", 2, start=2)
    append(path, data)
    os.rename(path, str(path) + ".1")
    fresh, data = frames("ROT", 2, start=4)
    path.write_bytes(data)
    wait_visible(d.client, late + fresh)
    assert health(d.client)["records"] == 6


def test_copytruncate_reads_from_the_start(make_daemon, tmp_path):
    path = tmp_path / "c.pb"
    first, data = frames("CPT", 3)
    path.write_bytes(data)
    d = make_daemon(tmp_path / "f.db", "--watch", "%s:pb" % path)
    wait_visible(d.client, first)
    shutil.copy(path, str(path) + ".1")
    with open(path, "r+b") as f:
        f.truncate(0)
    time.sleep(0.7)
    after, data = frames("CPT", 1, start=3)
    append(path, data)
    wait_visible(d.client, after)
    assert health(d.client)["records"] == 4


def test_directory_receiving_new_files(make_daemon, tmp_path):
    spool = tmp_path / "spool"
    spool.mkdir()
    d = make_daemon(tmp_path / "f.db", "--watch", "%s:pb" % spool)
    all_ids = []
    for n in range(3):
        ids, data = frames("DIR%d" % n, 2)
        (spool / ("part-%d.pb" % n)).write_bytes(data)
        all_ids += ids
    wait_visible(d.client, all_ids)


def test_glob_pattern(make_daemon, tmp_path):
    for n in range(2):
        ids, data = frames("GLB%d" % n, 1)
        (tmp_path / ("g%d.pb" % n)).write_bytes(data)
    (tmp_path / "other.txt").write_bytes(b"not followed")
    d = make_daemon(tmp_path / "f.db", "--watch",
                    "%s/g*.pb:pb" % tmp_path)
    wait_visible(d.client, ["GLB0-0000-AAAA", "GLB1-0000-AAAA"])
    assert health(d.client)["rejects"] == 0


def test_deleted_and_recreated(make_daemon, tmp_path):
    path = tmp_path / "d.pb"
    first, data = frames("DEL", 2)
    path.write_bytes(data)
    d = make_daemon(tmp_path / "f.db", "--watch", "%s:pb" % path)
    wait_visible(d.client, first)
    path.unlink()
    time.sleep(0.7)
    again, data = frames("DEL", 2, start=2)
    path.write_bytes(data)
    wait_visible(d.client, again)


def test_restart_resumes_at_the_stored_position(make_daemon, tmp_path):
    path = tmp_path / "s.pb"
    db = tmp_path / "f.db"
    first, data = frames("RES", 3)
    path.write_bytes(data)
    d = make_daemon(db, "--watch", "%s:pb" % path)
    wait_visible(d.client, first)
    d.assert_stops_cleanly()
    later, data = frames("RES", 2, start=3)
    append(path, data)
    d = make_daemon(db, "--watch", "%s:pb" % path)
    wait_visible(d.client, later)
    assert "resuming path=%s" % path in d.stderr()
    ids, _, _ = stored(db)
    assert sorted(ids) == sorted(first + later)


def write_config(path, body):
    path.write_text(body, encoding="utf-8")
    return path


def test_start_end_skips_what_is_there(make_daemon, tmp_path):
    path = tmp_path / "e.pb"
    old, data = frames("OLD", 2)
    path.write_bytes(data)
    cfg = write_config(tmp_path / "k.ini", "[source tail]\npath = %s\n"
                       "format = pb\nstart = end\n" % path)
    d = make_daemon(tmp_path / "f.db", "--config", str(cfg))
    new, data = frames("NEW", 1)
    time.sleep(0.7)
    append(path, data)
    wait_visible(d.client, new)
    assert not any(found(d.client, i) for i in old)


def test_sighup_reloads_sources(make_daemon, tmp_path):
    a, b = tmp_path / "a.pb", tmp_path / "b.pb"
    ids_a, data = frames("HUPA", 2)
    a.write_bytes(data)
    ids_b, data = frames("HUPB", 2)
    b.write_bytes(data)
    cfg = write_config(tmp_path / "k.ini",
                       "[source a]\npath = %s\nformat = pb\n" % a)
    d = make_daemon(tmp_path / "f.db", "--config", str(cfg))
    wait_visible(d.client, ids_a)
    assert not found(d.client, ids_b[0])
    write_config(cfg, "[source a]\npath = %s\nformat = pb\n"
                 "[source b]\npath = %s\nformat = pb\n" % (a, b))
    d.proc.send_signal(signal.SIGHUP)
    wait_visible(d.client, ids_b)
    assert health(d.client)["records"] == 4
    assert "reloaded sources=2" in d.stderr()


def test_bad_config_is_refused_with_file_and_line(kmswatch, tmp_path):
    cfg = write_config(tmp_path / "bad.ini", "[server]\nlisten = "
                       "127.0.0.1:0\n[source x]\nformat = pb\nstart = "
                       "middle\n")
    res = kmswatch("serve", "--config", cfg, "--db", tmp_path / "x.db")
    assert res.rc == 2
    assert "%s:5:" % cfg in res.stderr and "start" in res.stderr


def test_example_config_is_valid(kmswatch, make_daemon, tmp_path):
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    example = os.path.join(root, "examples", "kmswatch.ini")
    d = make_daemon(tmp_path / "ex.db", "--config", example)
    assert health(d.client)["status"] == "ok"


def ok_exchange(api, i):
    date = time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime(
        1796288400 + i))
    return http_exchange(api, 200, b"\x0a\x02ok", date=date)


def error_exchange(rid, i):
    date = time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime(
        1796288400 + i))
    return http_exchange("Decrypt", 409,
                         encode_error(0, "Rejected.Disabled", MSG, rid),
                         date=date)


@pytest.mark.parametrize("seed", [1, 2])
def test_exactly_once_across_sigkill(make_daemon, tmp_path, seed):
    """Appends in random pieces (cutting messages) while the daemon is
    killed with SIGKILL several times; afterwards every record and every
    2xx response is stored exactly once."""
    rnd = random.Random(seed)
    path = tmp_path / "x.http"
    path.write_bytes(b"")
    db = tmp_path / "x.db"
    ids, blob = [], bytearray()
    for i in range(600):
        if rnd.random() < 0.4:
            rid = "ONCE-%d-%05d-BB" % (seed, i)
            ids.append(rid)
            blob += error_exchange(rid, i)
        else:
            blob += ok_exchange("Encrypt", i)
    oks = 600 - len(ids)

    d = make_daemon(db, "--watch", "%s:http" % path)
    pos, kills = 0, 0
    while pos < len(blob):
        step = rnd.randint(1, 4000)
        append(path, bytes(blob[pos:pos + step]))
        pos += step
        if rnd.random() < 0.08 and kills < 6:
            time.sleep(rnd.random() * 0.3)
            d.proc.send_signal(signal.SIGKILL)
            d.proc.wait()
            kills += 1
            d = make_daemon(db, "--watch", "%s:http" % path)
    wait_visible(d.client, ids[-3:], timeout=10)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        got, ok, rejects = stored(db)
        if len(got) == len(ids) and ok == oks:
            break
        time.sleep(0.1)
    assert kills >= 2
    assert sorted(got) == sorted(ids)       # nothing lost, nothing twice
    assert ok == oks                        # 2xx counted exactly once
    assert rejects == 0                     # no cut message taken as bad


def test_retention_deletes_old_records_keeps_rollups(kmswatch, make_daemon,
                                                      tmp_path):
    # Older than the records' 30 days, younger than the rollups' 400.
    old_date = time.strftime("%a, %d %b %Y %H:%M:%S GMT",
                             time.gmtime(time.time() - 60 * 86400))
    new_date = time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime())
    cap = tmp_path / "ret.http"
    cap.write_bytes(
        http_exchange("Decrypt", 409, encode_error(
            0, "Rejected.Disabled", MSG, "RET-OLD-0001"), date=old_date)
        + http_exchange("Decrypt", 409, encode_error(
            0, "Rejected.Disabled", MSG, "RET-NEW-0001"), date=new_date))
    db = tmp_path / "ret.db"
    assert kmswatch("ingest", "--db", db, cap).rc == 0
    d = make_daemon(db, "--retention", "30d")
    deadline = time.monotonic() + VISIBLE_TIMEOUT_S
    while found(d.client, "RET-OLD-0001") and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not found(d.client, "RET-OLD-0001")
    assert found(d.client, "RET-NEW-0001")
    # The per-minute rollups are kept longer (400 days by default).
    status, _, stats = d.client.get("/api/v1/stats?by=code")
    assert status == 200 and stats["total"] == 2
    assert "expired records=1" in d.stderr()


def test_bad_retention_option_is_a_usage_error(kmswatch, tmp_path):
    res = kmswatch("serve", "--db", tmp_path / "x.db", "--retention", "soon")
    assert res.rc == 2 and "--retention" in res.stderr
