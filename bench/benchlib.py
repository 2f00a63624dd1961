"""benchlib.py - what bench.py, follow.py and soak.py share.

Starting and stopping `kmswatch serve`, sampling a process's resident
memory, running wrk with bench/wrk.lua and reading its figures back,
medians and percentiles, and printing a table.  Standard library only.
"""
import http.client
import json
import os
import re
import socket
import statistics
import subprocess
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.environ.get("KMSWATCH_BIN", os.path.join(ROOT, "build",
                                                  "kmswatch"))
GEN = os.path.join(ROOT, "tests", "gen.py")
LUA = os.path.join(ROOT, "bench", "wrk.lua")
RESULTS = os.path.join(ROOT, "bench", "results")


class BenchError(Exception):
    """A benchmark that could not be measured: the message says why."""


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(conn, path):
    """GET path on a kept-alive connection: (status, body bytes)."""
    conn.request("GET", path)
    resp = conn.getresponse()
    return resp.status, resp.read()


def get_json(port, path, timeout=10):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        status, body = get(conn, path)
        return status, json.loads(body)
    finally:
        conn.close()


class Daemon:
    """`kmswatch serve` on a free loopback port, stopped on exit."""

    def __init__(self, db, args=(), stderr=subprocess.DEVNULL):
        self.port = free_port()
        self.proc = subprocess.Popen(
            [BIN, "serve", "--db", db, "--listen",
             "127.0.0.1:%d" % self.port, "--retention", "0",
             "--log-level", "warning", *args],
            stdout=subprocess.DEVNULL, stderr=stderr)

    def __enter__(self):
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise BenchError("kmswatch serve exited at start (%s)"
                                 % self.proc.returncode)
            try:
                if get_json(self.port, "/healthz", 2)[0] == 200:
                    return self
            except OSError:
                pass
            time.sleep(0.05)
        self.stop()
        raise BenchError("kmswatch serve did not answer /healthz")

    def __exit__(self, *exc):
        self.stop()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(30)

    def wait_steady(self):
        """Waits for the alert engine's first pass, which reads every
        rollup: figures are of a daemon in its steady state."""
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            conn = http.client.HTTPConnection("127.0.0.1", self.port,
                                              timeout=30)
            text = get(conn, "/metrics")[1].decode()
            conn.close()
            m = re.search(r"^kmswatch_rule_evaluations_total (\S+)$",
                          text, re.M)
            if m and float(m.group(1)) >= 1:
                return
            time.sleep(0.2)
        raise BenchError("the alert engine made no pass in 300 s")


def rss_kib(pid):
    """VmRSS of a live process in KiB, or None once it is gone."""
    try:
        with open("/proc/%d/status" % pid) as f:
            m = re.search(r"^VmRSS:\s+(\d+) kB", f.read(), re.M)
    except OSError:
        return None
    return int(m.group(1)) if m else None


class RssSampler:
    """Samples a process's RSS every `every` seconds in a thread."""

    def __init__(self, pid, every=0.25):
        self.pid, self.every = pid, every
        self.samples = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while not self._stop.is_set():
            kib = rss_kib(self.pid)
            if kib is None:
                return
            self.samples.append(kib)
            self._stop.wait(self.every)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()

    def figures(self):
        """Peak, and steady as the median of the second half, in MiB."""
        if not self.samples:
            return {"peak_mib": None, "steady_mib": None}
        half = self.samples[len(self.samples) // 2:]
        return {"peak_mib": round(max(self.samples) / 1024, 1),
                "steady_mib": round(statistics.median(half) / 1024, 1)}


def run_measured(args, stdin=None, feed=None):
    """Runs a command to its end: (stdout text, seconds, memory), where
    memory holds peak_mib, the kernel's own high-water mark (wait4's
    ru_maxrss, so no short peak between samples is missed), and
    steady_mib, the median RSS of the second half of the run.  With feed,
    a function of the child's stdin pipe, the caller writes the input
    while the clock runs.
    """
    # Standard error goes to a file: a pipe nobody reads while the feed
    # writes could fill and stall the child.
    errf = tempfile.TemporaryFile()
    t0 = time.perf_counter()
    proc = subprocess.Popen(args, stdin=stdin, stdout=subprocess.PIPE,
                            stderr=errf)
    with RssSampler(proc.pid) as rss:
        if feed is not None:
            feed(proc.stdin)
            proc.stdin.close()
        out = proc.stdout.read()
        _, status, usage = os.wait4(proc.pid, 0)
    secs = time.perf_counter() - t0
    errf.seek(0)
    err = errf.read()
    errf.close()
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise BenchError("%s exited %d: %s" % (os.path.basename(args[0]),
                                               proc.returncode,
                                               err.decode()[-2000:]))
    memory = {"peak_mib": round(usage.ru_maxrss / 1024, 1),
              "steady_mib": rss.figures()["steady_mib"]}
    return out.decode(), secs, memory


def wrk(url, seconds, connections=16, threads=2, path=None, ids=None):
    """Runs wrk against url through bench/wrk.lua; returns its figures:
    requests, rps, p50/p99/max in ms and errors (failed or non-2xx)."""
    args = ["wrk", "-t%d" % threads, "-c%d" % connections,
            "-d%ds" % seconds, "--timeout", "5s", "-s", LUA, url]
    if path is not None:
        args += ["--", path] + ([ids] if ids else [])
    out = subprocess.run(args, capture_output=True, text=True)
    m = re.search(r"^WRK (\{.*\})$", out.stdout, re.M)
    if out.returncode != 0 or not m:
        raise BenchError("wrk on %s failed: %s%s" % (url, out.stdout,
                                                     out.stderr))
    r = json.loads(m.group(1))
    errors = sum(r[k] for k in ("connect", "read", "write", "status",
                                "timeout"))
    return {"requests": r["requests"], "errors": errors,
            "rps": round(r["requests"] / (r["duration_us"] / 1e6)),
            "p50_ms": r["p50_us"] / 1000, "p99_ms": r["p99_us"] / 1000,
            "max_ms": r["max_us"] / 1000}


def percentile(sorted_values, q):
    """The q-quantile (0..1) of an ascending list, nearest rank."""
    if not sorted_values:
        return None
    k = min(len(sorted_values) - 1, int(q * len(sorted_values)))
    return sorted_values[k]


def print_table(title, header, rows):
    """Prints rows of strings in aligned columns under a title."""
    rows = [tuple(str(c) for c in r) for r in rows]
    width = [max(len(r[i]) for r in [header] + rows)
             for i in range(len(header))]
    print("\n" + title)
    for r in [header] + rows:
        print("  ".join(c.ljust(width[i]) if i == 0 else c.rjust(width[i])
                        for i, c in enumerate(r)))


def write_result(name, obj):
    """Writes bench/results/NAME.json (pretty, ends in a newline)."""
    os.makedirs(RESULTS, exist_ok=True)
    path = os.path.join(RESULTS, name + ".json")
    with open(path + ".tmp", "w") as f:
        json.dump(obj, f, indent=2)
        f.write("\n")
    os.replace(path + ".tmp", path)
    return path


def read_result(name):
    """bench/results/NAME.json as written by write_result, or None."""
    try:
        with open(os.path.join(RESULTS, name + ".json")) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def copy_in_chunks(path, out, size, flush=False):
    """Writes the file at path to the open binary file out, size bytes at
    a time, flushing after each when asked (a followed file then grows
    the way a logger makes it grow)."""
    with open(path, "rb") as src:
        while chunk := src.read(size):
            out.write(chunk)
            if flush:
                out.flush()
