#!/usr/bin/python3
"""follow.py - how fast `kmswatch serve` keeps up with a followed file.

A writer appends JSON Lines error records to a followed file as fast as it
can for --seconds (default 30); meanwhile a prober picks records just
written and asks GET /api/v1/requests/{id} until each is visible, which
gives the append-to-visible lag.  Prints records/s stored and the lag's
p50/p99, and adds them to bench/results/follow.json.

    follow.py [--seconds N]
"""
import argparse
import http.client
import json
import os
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
MSG = "The request was rejected because the key state is Disabled."


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(conn, path):
    conn.request("GET", path)
    resp = conn.getresponse()
    body = resp.read()
    return resp.status, body


def wait_up(port):
    for _ in range(200):
        try:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            if get(c, "/healthz")[0] == 200:
                return
        except OSError:
            time.sleep(0.05)
    raise SystemExit("follow.py: the daemon did not start")


def writer(path, seconds, written, probes, stop):
    """Appends records in batches of 500 lines, as a busy logger would."""
    end = time.monotonic() + seconds
    n = 0
    with open(path, "a", buffering=1 << 20) as f:
        while time.monotonic() < end:
            lines = []
            for _ in range(500):
                rid = str(uuid.uuid4()).upper()
                lines.append(json.dumps({
                    "ErrorCode": "Rejected.Disabled", "ErrorMessage": MSG,
                    "RequestId": rid, "StatusCode": 409,
                    "time": int(time.time() * 1000), "api": "Decrypt"}))
            f.write("\n".join(lines) + "\n")
            f.flush()
            n += len(lines)
            if len(probes) < 2000 and n % 5000 == 0:
                probes.append((rid, time.monotonic()))
    written.append(n)
    stop.set()


def prober(port, probes, lags, stop):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    done = 0
    while not (stop.is_set() and done >= len(probes)):
        if done >= len(probes):
            time.sleep(0.005)
            continue
        rid, t0 = probes[done]
        while get(conn, "/api/v1/requests/" + rid)[0] != 200:
            time.sleep(0.002)
        lags.append(time.monotonic() - t0)
        done += 1


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=30)
    args = ap.parse_args()
    work = tempfile.mkdtemp(prefix="kmswatch-follow-")
    path = os.path.join(work, "app.jsonl")
    open(path, "w").close()
    port = free_port()
    proc = subprocess.Popen([BIN, "serve", "--db",
                             os.path.join(work, "f.db"), "--listen",
                             "127.0.0.1:%d" % port, "--watch",
                             path + ":jsonl", "--retention", "0"],
                            stderr=subprocess.DEVNULL)
    try:
        wait_up(port)
        written, probes, lags, stop = [], [], [], threading.Event()
        t0 = time.monotonic()
        w = threading.Thread(target=writer,
                             args=(path, args.seconds, written, probes, stop))
        p = threading.Thread(target=prober, args=(port, probes, lags, stop))
        w.start()
        p.start()
        w.join()
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        while json.loads(get(conn, "/healthz")[1])["records"] < written[0]:
            time.sleep(0.05)
        elapsed = time.monotonic() - t0
        p.join()
    finally:
        proc.terminate()
        proc.wait(10)
        shutil.rmtree(work, ignore_errors=True)
    lags.sort()
    res = {"records": written[0], "seconds": round(elapsed, 2),
           "records_per_s": round(written[0] / elapsed),
           "lag_p50_ms": round(lags[len(lags) // 2] * 1000, 1),
           "lag_p99_ms": round(lags[int(len(lags) * 0.99)] * 1000, 1),
           "lag_samples": len(lags)}
    for k, v in res.items():
        print("%-16s %s" % (k, v))
    os.makedirs(os.path.join(ROOT, "bench", "results"), exist_ok=True)
    with open(os.path.join(ROOT, "bench", "results", "follow.json"),
              "w") as f:
        json.dump(res, f, indent=2)
        f.write("\n")


if __name__ == "__main__":
    sys.exit(main())
