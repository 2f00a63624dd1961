#!/usr/bin/python3
"""bench.py - the figures `make bench` prints.

1. Ingest: tests/gen.py writes N (default 1,000,000) pb records; the time of
   `kmswatch ingest` into a fresh database gives records/s (dedupe, indexes
   and rollups included: it is the real command).
2. Lookup: `kmswatch serve` on that database, once its alert engine has
   made its first pass; one client on one keep-alive
   connection asks GET /api/v1/requests/{id} for random stored ids and
   reports p50/p99/max latency as the client sees it (Python's http.client
   adds its own overhead, so these are upper bounds for the server).

Results are printed and written to bench/results/latest.json.  Usage:
    bench.py [--records N] [--lookups N] [--keep DIR]
"""
import argparse
import http.client
import json
import os
import random
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.join(ROOT, "build", "kmswatch")
GEN = os.path.join(ROOT, "tests", "gen.py")
SCENARIO = os.path.join(ROOT, "tests", "scenarios", "basic.json")


def generate(work, n):
    pb = os.path.join(work, "bench.pb")
    truth = os.path.join(work, "bench.truth")
    subprocess.run([sys.executable, GEN, "--scenario", SCENARIO,
                    "--format", "pb", "--count", str(n), "--seed", "7",
                    "--out", pb, "--truth", truth], check=True)
    return pb, truth


def ingest(work, pb):
    db = os.path.join(work, "bench.db")
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    out = subprocess.run([BIN, "ingest", "--json", "--db", db, pb],
                         check=True, capture_output=True, text=True)
    elapsed = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    tally = json.loads(out.stdout)
    return db, tally, elapsed, after.ru_maxrss, (
        after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(db):
    port = free_port()
    proc = subprocess.Popen([BIN, "serve", "--db", db, "--listen",
                             "127.0.0.1:%d" % port],
                            stderr=subprocess.DEVNULL)
    deadline = time.time() + 10
    while time.time() < deadline:
        try:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            c.request("GET", "/healthz")
            if c.getresponse().status == 200:
                c.close()
                return proc, port
        except OSError:
            time.sleep(0.05)
    proc.kill()
    raise SystemExit("bench: the server did not start")


def wait_steady(port):
    """Waits for the alert engine's first pass, which reads every rollup:
    the figures are of a daemon in its steady state, not of its start."""
    deadline = time.time() + 60
    while time.time() < deadline:
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        c.request("GET", "/metrics")
        text = c.getresponse().read().decode()
        c.close()
        for line in text.splitlines():
            if line.startswith("kmswatch_rule_evaluations_total ") and \
                    float(line.split()[1]) >= 1:
                return
        time.sleep(0.2)


def sample_ids(truth, k):
    ids = []
    with open(truth) as f:
        for line in f:
            ids.append(json.loads(line)["request_id"])
    random.seed(3)
    return random.sample(ids, min(k, len(ids)))


def lookups(port, ids):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    lat = []
    for rid in ids:
        t0 = time.perf_counter()
        conn.request("GET", "/api/v1/requests/" + rid)
        resp = conn.getresponse()
        resp.read()
        lat.append(time.perf_counter() - t0)
        if resp.status != 200:
            raise SystemExit("bench: lookup of %s answered %d"
                             % (rid, resp.status))
    conn.close()
    lat.sort()
    pick = lambda q: lat[min(len(lat) - 1, int(q * len(lat)))] * 1000
    return {"n": len(lat), "p50_ms": pick(0.50), "p99_ms": pick(0.99),
            "max_ms": lat[-1] * 1000}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--records", type=int, default=1000000)
    ap.add_argument("--lookups", type=int, default=20000)
    ap.add_argument("--keep", help="work in DIR and keep it")
    args = ap.parse_args()

    work = args.keep or tempfile.mkdtemp(prefix="kmswatch-bench-")
    os.makedirs(work, exist_ok=True)
    try:
        pb, truth = generate(work, args.records)
        db, tally, secs, rss_kb, cpu = ingest(work, pb)
        proc, port = start_server(db)
        try:
            wait_steady(port)
            lookups(port, sample_ids(truth, 500))      # warm up
            lat = lookups(port, sample_ids(truth, args.lookups))
        finally:
            proc.terminate()
            proc.wait(10)
        res = {
            "records": args.records,
            "ingest_accepted": tally["accepted"],
            "ingest_seconds": round(secs, 3),
            "ingest_records_per_s": round(tally["accepted"] / secs),
            "ingest_cpu_seconds": round(cpu, 3),
            "ingest_peak_rss_mib": round(rss_kb / 1024, 1),
            "db_bytes": os.path.getsize(db),
            "db_bytes_per_record": round(os.path.getsize(db)
                                         / max(1, tally["accepted"]), 1),
            "lookup": {k: (round(v, 3) if isinstance(v, float) else v)
                       for k, v in lat.items()},
        }
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)

    print("%-28s %s" % ("figure", "value"))
    for k, v in res.items():
        if k == "lookup":
            for lk, lv in v.items():
                print("%-28s %s" % ("lookup_" + lk, lv))
        else:
            print("%-28s %s" % (k, v))
    outdir = os.path.join(ROOT, "bench", "results")
    os.makedirs(outdir, exist_ok=True)
    with open(os.path.join(outdir, "latest.json"), "w") as f:
        json.dump(res, f, indent=2)
        f.write("\n")


if __name__ == "__main__":
    main()
