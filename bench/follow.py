#!/usr/bin/python3
"""follow.py - how fast `kmswatch serve` keeps up with a followed file.

Two phases against one daemon following one JSON Lines file:

1. Throughput: tests/gen.py's records (--records, default 2,000,000) are
   appended to the file in 4 MiB writes, as fast as the disk takes them;
   the time until /healthz counts them all gives the records/s the
   daemon sustains from a followed file.
2. Lag: a writer appends --rate records a second (default 10,000: well
   under that ceiling, as a busy service logs) in ten flushes a second,
   for --seconds (default 15); a prober takes every 1,000th RequestId
   and asks GET /api/v1/requests/{id} until it is there.  The time from
   the flush to the first 200 is the append-to-visible lag.

Prints the figures and writes bench/results/follow.json; bench.py calls
measure() for its follow section.

    follow.py [--records N] [--rate N] [--seconds N] [--quick]
"""
import argparse
import http.client
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib as bl  # noqa: E402

SCENARIO = os.path.join(bl.ROOT, "tests", "scenarios", "basic.json")
MSG = "The request was rejected because the key state is Disabled."


def throughput(daemon, path, records, work):
    src = os.path.join(work, "burst.jsonl")
    subprocess.run([sys.executable, bl.GEN, "--scenario", SCENARIO,
                    "--format", "jsonl", "--count", str(records),
                    "--seed", "77", "--out", src], check=True)
    base = bl.get_json(daemon.port, "/healthz")[1]["records"]
    t0 = time.monotonic()
    with open(path, "ab") as out:
        bl.copy_in_chunks(src, out, 4 << 20, flush=True)
    written = time.monotonic() - t0
    conn = http.client.HTTPConnection("127.0.0.1", daemon.port, timeout=30)
    deadline = t0 + 600
    while time.monotonic() < deadline:
        n = json.loads(bl.get(conn, "/healthz")[1])["records"] - base
        if n >= records:
            break
        time.sleep(0.02)
    secs = time.monotonic() - t0
    os.unlink(src)
    if n < records:
        raise bl.BenchError("follow: %d of %d records stored in 600 s"
                            % (n, records))
    return {"records": records, "seconds": round(secs, 2),
            "records_per_s": round(records / secs),
            "append_seconds": round(written, 2)}


def writer(path, rate, seconds, probes):
    """Appends rate records a second, a tenth at a time."""
    per_tick = max(1, rate // 10)
    tick = time.monotonic()
    end = tick + seconds
    n = 0
    with open(path, "a") as f:
        while time.monotonic() < end:
            lines, probe = [], None
            for _ in range(per_tick):
                rid = str(uuid.uuid4()).upper()
                lines.append(json.dumps({
                    "ErrorCode": "Rejected.Disabled", "ErrorMessage": MSG,
                    "RequestId": rid, "StatusCode": 409,
                    "time": int(time.time() * 1000), "api": "Decrypt"}))
                n += 1
                if n % 1000 == 0:
                    probe = rid
            f.write("\n".join(lines) + "\n")
            f.flush()
            if probe:
                probes.append((probe, time.monotonic()))
            tick += 0.1
            time.sleep(max(0.0, tick - time.monotonic()))
    return n


def prober(port, probes, lags, done):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    k = 0
    while not (done.is_set() and k >= len(probes)):
        if k >= len(probes):
            time.sleep(0.002)
            continue
        rid, t0 = probes[k]
        while bl.get(conn, "/api/v1/requests/" + rid)[0] != 200:
            time.sleep(0.001)
        lags.append((time.monotonic() - t0) * 1000)
        k += 1


def lag(daemon, path, rate, seconds):
    probes, lags, done = [], [], threading.Event()
    p = threading.Thread(target=prober,
                         args=(daemon.port, probes, lags, done))
    p.start()
    try:
        n = writer(path, rate, seconds, probes)
    finally:
        done.set()
        p.join()
    lags.sort()
    return {"rate": rate, "seconds": seconds, "records": n,
            "samples": len(lags),
            "lag_p50_ms": round(bl.percentile(lags, 0.5), 1),
            "lag_p99_ms": round(bl.percentile(lags, 0.99), 1),
            "lag_max_ms": round(lags[-1], 1)}


def measure(records=2000000, rate=10000, seconds=15, quick=False):
    if quick:
        records, seconds = 200000, 5
    work = tempfile.mkdtemp(prefix="kmswatch-follow-", dir="/var/tmp")
    path = os.path.join(work, "app.jsonl")
    open(path, "w").close()
    try:
        with bl.Daemon(os.path.join(work, "f.db"),
                       ["--watch", path + ":jsonl"]) as d:
            with bl.RssSampler(d.proc.pid) as rss:
                res = {"throughput": throughput(d, path, records, work),
                       "lag": lag(d, path, rate, seconds)}
            res["rss"] = rss.figures()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    t, g = res["throughput"], res["lag"]
    bl.print_table("follow: a jsonl file followed by kmswatch serve",
                   ("figure", "value"),
                   [("burst records", t["records"]),
                    ("burst stored, records/s", t["records_per_s"]),
                    ("lag at %d records/s, p50 ms" % g["rate"],
                     g["lag_p50_ms"]),
                    ("lag p99 ms", g["lag_p99_ms"]),
                    ("lag max ms", g["lag_max_ms"]),
                    ("daemon peak RSS MiB", res["rss"]["peak_mib"])])
    return res


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--records", type=int, default=2000000)
    ap.add_argument("--rate", type=int, default=10000)
    ap.add_argument("--seconds", type=float, default=15)
    ap.add_argument("--quick", action="store_true")
    a = ap.parse_args()
    res = measure(a.records, a.rate, a.seconds, a.quick)
    bl.write_result("follow", {"when": time.strftime(
        "%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "follow": res})
    return 0


if __name__ == "__main__":
    sys.exit(main())
