#!/usr/bin/python3
"""soak.py - kmswatch serve under steady mixed load for minutes on end.

It seeds a database with records (--seed-records, default 20,000), starts
`kmswatch serve` on it following a JSON Lines file, and then, for
--seconds (default 300), all at once:

- a writer appends --rate records a second (default 200) to the file;
- three wrk processes ask, each over two connections: lookups of the
  seeded RequestIds (bench/wrk.lua walks the list), /api/v1/stats and
  /api/v1/timeseries;
- the daemon's RSS is sampled every second.

At the end it waits for every written record to be stored, prints a
table and writes bench/results/soak.json.  It exits 1 on any failed or
non-2xx request, a socket error, a record not stored, a daemon that
died, or RSS that grew by more than --rss-growth-mib (default 64) from
the first sample taken under load to the last.  The bound leaves room
for the page caches to fill (32 MiB for the writer, 8 MiB for each of
the two readers); growth past them would be a leak.

    soak.py [--seconds N] [--rate N] [--seed-records N]
"""
import argparse
import http.client
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.join(ROOT, "build", "kmswatch")
LUA = os.path.join(ROOT, "bench", "wrk.lua")
OUT = os.path.join(ROOT, "bench", "results", "soak.json")
MSG = "The request was rejected because the key state is Disabled."
CODES = [("Rejected.Disabled", 409), ("Forbidden.KeyNotFound", 404),
         ("Rejected.Throttling", 429), ("SignatureNotMatch", 401)]
APIS = ["Decrypt", "Encrypt", "GenerateDataKey", "GetSecretValue"]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def line(i, now_ms):
    code, status = CODES[i % len(CODES)]
    rid = str(uuid.uuid4()).upper()
    return rid, json.dumps({"ErrorCode": code, "ErrorMessage": MSG,
                            "RequestId": rid, "StatusCode": status,
                            "time": now_ms, "api": APIS[i % len(APIS)]})


def seed(work, n):
    """A JSON Lines capture of n records over the last hour, ingested."""
    path = os.path.join(work, "seed.jsonl")
    ids = []
    now = int(time.time() * 1000)
    with open(path, "w") as f:
        for i in range(n):
            rid, text = line(i, now - 3600 * 1000 + i * 3600 * 1000 // n)
            ids.append(rid)
            f.write(text + "\n")
    db = os.path.join(work, "soak.db")
    subprocess.run([BIN, "ingest", "--db", db, path], check=True,
                   stdout=subprocess.DEVNULL)
    with open(os.path.join(work, "ids.txt"), "w") as f:
        f.write("\n".join(ids) + "\n")
    return db


def get_json(port, path):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        c.request("GET", path)
        r = c.getresponse()
        return r.status, json.loads(r.read())
    finally:
        c.close()


def wait_up(proc, port):
    for _ in range(200):
        if proc.poll() is not None:
            raise SystemExit("soak.py: the daemon exited at start")
        try:
            if get_json(port, "/healthz")[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.05)
    raise SystemExit("soak.py: the daemon did not start")


def writer(path, seconds, rate, written):
    """Appends rate records a second, in ten batches a second."""
    end = time.monotonic() + seconds
    tick = time.monotonic()
    i = 0
    with open(path, "a") as f:
        while time.monotonic() < end:
            now = int(time.time() * 1000)
            batch = []
            for _ in range(max(1, rate // 10)):
                batch.append(line(i, now)[1])
                i += 1
            f.write("\n".join(batch) + "\n")
            f.flush()
            tick += 0.1
            time.sleep(max(0, tick - time.monotonic()))
    written.append(i)


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        m = re.search(r"^VmRSS:\s+(\d+) kB", f.read(), re.M)
    return int(m.group(1))


def sampler(pid, samples, stop):
    while not stop.is_set():
        try:
            samples.append((time.monotonic(), rss_kib(pid)))
        except OSError:
            return
        stop.wait(1.0)


def wrk(port, name, path, seconds, ids=None):
    args = ["wrk", "-t1", "-c2", "-d%ds" % seconds, "--timeout", "5s",
            "-s", LUA, "http://127.0.0.1:%d" % port, "--", path]
    if ids:
        args.append(ids)
    return name, subprocess.Popen(args, stdout=subprocess.PIPE,
                                  stderr=subprocess.STDOUT, text=True)


def wrk_result(name, proc):
    out = proc.communicate()[0]
    m = re.search(r"^WRK (\{.*\})$", out, re.M)
    if proc.returncode != 0 or not m:
        raise SystemExit("soak.py: wrk for %s failed:\n%s" % (name, out))
    r = json.loads(m.group(1))
    r["errors"] = sum(r[k] for k in ("connect", "read", "write", "status",
                                     "timeout"))
    r["rps"] = round(r["requests"] / (r["duration_us"] / 1e6), 1)
    return r


def table(res):
    rows = [("endpoint", "requests", "req/s", "errors", "p50 ms", "p99 ms",
             "max ms")]
    for name, r in res["endpoints"].items():
        rows.append((name, str(r["requests"]), str(r["rps"]),
                     str(r["errors"]), "%.2f" % (r["p50_us"] / 1000),
                     "%.2f" % (r["p99_us"] / 1000),
                     "%.1f" % (r["max_us"] / 1000)))
    w = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for r in rows:
        print("  ".join(c.ljust(w[i]) if i == 0 else c.rjust(w[i])
                        for i, c in enumerate(r)))
    m = res["rss_mib"]
    print("RSS MiB: start %.1f, end %.1f, max %.1f (bound: +%d)"
          % (m["start"], m["end"], m["max"], res["rss_growth_bound_mib"]))
    print("records: written %d, stored %d, in %d s"
          % (res["records_written"], res["records_ingested"],
             res["seconds"]))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seconds", type=int, default=300)
    ap.add_argument("--rate", type=int, default=200)
    ap.add_argument("--seed-records", type=int, default=20000)
    ap.add_argument("--rss-growth-mib", type=int, default=64)
    a = ap.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("soak.py: wrk is missing (make soak installs it)")

    work = tempfile.mkdtemp(prefix="kmswatch-soak-")
    db = seed(work, a.seed_records)
    followed = os.path.join(work, "live.jsonl")
    open(followed, "w").close()
    port = free_port()
    log = open(os.path.join(work, "serve.err"), "wb")
    proc = subprocess.Popen([BIN, "serve", "--db", db, "--listen",
                             "127.0.0.1:%d" % port, "--retention", "0",
                             "--log-level", "warning", "--watch",
                             followed + ":jsonl"],
                            stdout=subprocess.DEVNULL, stderr=log)
    failures = []
    try:
        wait_up(proc, port)
        base = get_json(port, "/healthz")[1]["records"]
        written, samples, stop = [], [], threading.Event()
        w = threading.Thread(target=writer, args=(followed, a.seconds,
                                                  a.rate, written))
        s = threading.Thread(target=sampler, args=(proc.pid, samples, stop))
        t0 = time.monotonic()
        w.start()
        s.start()
        loads = [wrk(port, "lookup", "/api/v1/requests/", a.seconds,
                     os.path.join(work, "ids.txt")),
                 wrk(port, "stats", "/api/v1/stats?by=code", a.seconds),
                 wrk(port, "timeseries", "/api/v1/timeseries", a.seconds)]
        endpoints = {name: wrk_result(name, p) for name, p in loads}
        w.join()
        # Every record written must be stored, soon after the writer ends.
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            stored = get_json(port, "/healthz")[1]["records"] - base
            if stored >= written[0]:
                break
            time.sleep(0.2)
        stop.set()
        s.join()
        elapsed = time.monotonic() - t0
        if proc.poll() is not None:
            failures.append("the daemon died (exit %s)" % proc.returncode)
    finally:
        if proc.poll() is None:
            proc.terminate()
            proc.wait(10)
        log.close()

    # Under load from the start: the first sample is the baseline.
    rss = [kib / 1024 for _, kib in samples]
    res = {
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "seconds": round(elapsed), "rate": a.rate,
        "seed_records": a.seed_records, "endpoints": endpoints,
        "records_written": written[0], "records_ingested": stored,
        "rss_mib": {"start": round(rss[0], 1), "end": round(rss[-1], 1),
                    "max": round(max(rss), 1), "samples": len(rss)},
        "rss_growth_bound_mib": a.rss_growth_mib,
    }
    for name, r in endpoints.items():
        if r["errors"]:
            failures.append("%s: %d failed or non-2xx requests" %
                            (name, r["errors"]))
    if stored != written[0]:
        failures.append("%d records written, %d stored" % (written[0],
                                                          stored))
    if rss[-1] - rss[0] > a.rss_growth_mib:
        failures.append("RSS grew by %.1f MiB" % (rss[-1] - rss[0]))
    res["failures"] = failures
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w") as f:
        json.dump(res, f, indent=2)
        f.write("\n")
    table(res)
    for f in failures:
        print("soak: FAIL " + f, file=sys.stderr)
    if not failures:
        shutil.rmtree(work)
    else:
        print("soak: work files kept in " + work, file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
