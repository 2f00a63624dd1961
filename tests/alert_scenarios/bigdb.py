#!/usr/bin/python3
"""bigdb.py - a scratch kmswatch database standing for N error records,
for timing the alert evaluator (not a test; run by hand).

    bigdb.py --db PATH [--records 10000000] [--days 30] [--end RFC3339]

It creates the schema with `build/kmswatch ingest` of a tiny capture, then
fills, with plain SQL, what a database of that many records would hold:
`records` rows (with hashed fake RequestIds; the evaluator never reads
them, but they give the file its real size), and the per-minute rollups
the evaluator does read: each minute's records drawn from the mix of
tests/scenarios/basic.json over its APIs, and 2xx responses at three per
error.  Rates follow a daily cycle (0.4x to 1.6x).  Deterministic (seed 7).
"""

import argparse
import datetime
import json
import math
import os
import random
import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
STATUS = {
    "InvalidParam": 400, "InvalidApiVersion": 400, "MissingParameter": 400,
    "RequestTimeTooSkewed": 400, "InvalidApiName": 400,
    "SignatureNotMatch": 401, "Unauthorized": 404,
    "Forbidden.NoPermission": 403, "Forbidden.KeyNotFound": 404,
    "Rejected.State": 409, "Rejected.PendingDeletion": 409,
    "Rejected.Disabled": 409, "Rejected.PendingImport": 409,
    "InvalidContentType": 415, "InternalFailure": 500,
    "ServiceUnavailableTemporary": 503, "InvalidParameter": 400,
    "UnsupportedOperation": 400, "Rejected.Throttling": 429,
    "Rejected.SomethingNew": 409,
}


def intern(db, kind, value):
    db.execute("INSERT OR IGNORE INTO strings (kind, value) VALUES (?, ?)",
               (kind, value))
    return db.execute("SELECT id FROM strings WHERE kind = ? AND value = ?",
                      (kind, value)).fetchone()[0]


def make_schema(path):
    with tempfile.TemporaryDirectory() as tmp:
        cap = os.path.join(tmp, "c.http")
        subprocess.run([sys.executable, str(REPO / "tests" / "gen.py"),
                        "--scenario", str(REPO / "tests" / "scenarios" /
                                          "basic.json"),
                        "--format", "http", "--count", "1", "--out", cap],
                       check=True)
        subprocess.run([str(REPO / "build" / "kmswatch"), "ingest", "--db",
                        path, cap], check=True, stdout=subprocess.DEVNULL)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--db", required=True)
    ap.add_argument("--records", type=int, default=10_000_000)
    ap.add_argument("--days", type=float, default=30)
    ap.add_argument("--end", default="2026-12-03T12:00:00Z")
    a = ap.parse_args()
    make_schema(a.db)
    scen = json.load(open(REPO / "tests" / "scenarios" / "basic.json"))
    db = sqlite3.connect(a.db)
    db.execute("PRAGMA journal_mode = WAL")
    db.execute("PRAGMA synchronous = OFF")
    db.execute("DELETE FROM records")
    db.execute("DELETE FROM rollup_minute")
    db.execute("DELETE FROM responses_minute")
    codes = list(scen["mix"])
    apis = list(scen["apis"])
    aw = [scen["apis"][x] for x in apis]
    cid = {c: intern(db, 1, c) for c in codes}
    aid = {x: intern(db, 2, x) for x in apis}
    cat = intern(db, 4, "unknown")
    src = intern(db, 3, "bigdb")
    msg = intern(db, 5, "synthetic")
    cells = [(c, x) for c in codes for x in apis]
    cellw = [scen["mix"][c] * scen["apis"][x] for c, x in cells]
    end = datetime.datetime.fromisoformat(a.end.replace("Z", "+00:00"))
    end_min = int(end.timestamp()) // 60
    nmin = int(a.days * 1440)
    start_min = end_min - nmin
    rate = a.records / nmin
    rng = random.Random(7)
    total = 0
    rows, oks = [], []
    for m in range(start_min, end_min):
        phase = 2 * math.pi * (m % 1440) / 1440
        n = int(round(rate * (1 + 0.6 * math.sin(phase))))
        if m == end_min - 1:
            n = max(0, a.records - total)
        total += n
        per = {}
        for cell in rng.choices(range(len(cells)), cum_weights=None,
                                weights=cellw, k=n):
            per[cell] = per.get(cell, 0) + 1
        for cell, k in per.items():
            c, x = cells[cell]
            rows.append((m, cid[c], STATUS[c], aid[x], cat, k))
        for x, w in zip(apis, aw):
            oks.append((m, aid[x], max(1, int(3 * n * w))))
        if len(rows) > 200000:
            db.executemany("INSERT INTO rollup_minute VALUES (?,?,?,?,?,?)",
                           rows)
            db.executemany("INSERT INTO responses_minute VALUES (?,?,?)",
                           oks)
            rows, oks = [], []
    db.executemany("INSERT INTO rollup_minute VALUES (?,?,?,?,?,?)", rows)
    db.executemany("INSERT INTO responses_minute VALUES (?,?,?)", oks)
    db.commit()
    # Records: the evaluator never reads them; they give the file its size.
    db.execute("""
        WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n
                                WHERE i < ?)
        INSERT INTO records (time_ms, status, code_id, api_id, source_id,
                             category_id, flags, src_offset, message_id,
                             request_id)
        SELECT (? + i * ?) * 1, 409, ?, ?, ?, ?, 1, i, ?, hex(randomblob(16))
        FROM n""", (a.records, start_min * 60000, nmin * 60000 // a.records,
                    cid[codes[0]], aid[apis[0]], src, cat, msg))
    db.commit()
    print("minutes=%d records=%d rollup_rows=%d" % (
        nmin, total,
        db.execute("SELECT count(*) FROM rollup_minute").fetchone()[0]))


if __name__ == "__main__":
    main()
