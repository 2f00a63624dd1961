#!/usr/bin/python3
"""bench.py - kmswatch measured side by side with what a user would pick
instead, on this machine, in one run.  `make bench` runs it.

Sections (--sections, default all of them, in this order):

ingest   `kmswatch ingest` of 1 M and 10 M generated pb records, and of
         the same counts as jsonl, fed through a pipe, against two peers
         on the same pb input: bench/peers/raw_ceiling.c (already
         decoded rows into a plain table: the SQLite ceiling) and
         bench/peers/naive.py (python3-protobuf into the obvious
         schema).  Runs alternate between the programs and the median
         counts.  The 10 M kmswatch runs also give the rate of each
         million, to show whether it is sustained, and their RSS.
follow   bench/follow.py: records/s sustained from a followed jsonl
         file, and append-to-visible lag at a rate below that.
queries  databases of 1 M, 10 M and 100 M jsonl records over 30 days
         (--sizes), made once by tests/gen.py piped into kmswatch ingest
         and kept in --cache; on each, the API's queries timed from one
         keep-alive client: RequestId lookup, stats by code over 1 h,
         24 h and 30 d, time series over 7 d at 60 s, the errors listing
         with filters, and a 7-day backtest.
http     wrk against lookup and stats on the largest database, and
         against nginx serving static JSON files of the same sizes (the
         ceiling of "an HTTP server answering"), alternating; the
         daemon's RSS under that load.
size     bytes per stored record, and what each table and index costs.

Every figure is printed as a table and written to bench/results/: one
JSON file per section and summary.json with the targets.

    bench.py [--sections LIST] [--sizes LIST] [--runs N] [--quick]
             [--cache DIR] [--work DIR]
"""
import argparse
import calendar
import http.client
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib as bl  # noqa: E402
import follow  # noqa: E402
import targets  # noqa: E402

SCENARIO = os.path.join(bl.ROOT, "tests", "scenarios", "basic.json")
RAW = os.path.join(bl.ROOT, "build", "bench", "raw_ceiling")
NAIVE = os.path.join(bl.ROOT, "bench", "peers", "naive.py")
MILLION = 1000000
# The query databases: 30 days of records, ending here.
SPAN_START = "2026-11-01T00:00:00Z"
SPAN_SECONDS = 30 * 86400
SIZES = {"1m": MILLION, "10m": 10 * MILLION, "100m": 100 * MILLION}
LATEST_SCHEMA = len([f for f in os.listdir(os.path.join(bl.ROOT, "schema"))
                     if f[:3].isdigit() and f.endswith(".sql")])


def median(values):
    return statistics.median(values) if values else None


# ---------------------------------------------------------------------------
# ingest

def gen_pieces(work, fmt, total, seed):
    """Writes total records as pieces of at most 1 M (one file each, a
    seed each, so that RequestIds never repeat); returns their paths."""
    paths = []
    for k in range((total + MILLION - 1) // MILLION):
        n = min(MILLION, total - k * MILLION)
        path = os.path.join(work, "%s-%d-%02d.%s" % (fmt, total, k, fmt))
        subprocess.run([sys.executable, bl.GEN, "--scenario", SCENARIO,
                        "--format", fmt, "--count", str(n),
                        "--seed", str(seed + k), "--out", path],
                       check=True)
        paths.append(path)
    return paths


def concat(paths, out):
    with open(out, "wb") as dst:
        for p in paths:
            with open(p, "rb") as src:
                shutil.copyfileobj(src, dst, 1 << 22)
    return out


def feed_pieces(paths, marks):
    """A feed for run_measured: writes each piece to the pipe and notes
    when the pipe took its last byte.  kmswatch reads 4 MiB at a time,
    so a mark is late by at most that much input (about 0.1 s)."""
    def feed(pipe):
        for p in paths:
            bl.copy_in_chunks(p, pipe, 1 << 20)
            pipe.flush()
            marks.append(time.perf_counter())
    return feed


def run_kmswatch(work, fmt, paths, total):
    db = os.path.join(work, "kmswatch.db")
    remove_db(db)
    marks = []
    t0 = time.perf_counter()
    out, secs, mem = bl.run_measured(
        [bl.BIN, "ingest", "--json", "--format", fmt, "--source", "bench",
         "--db", db, "-"], stdin=subprocess.PIPE,
        feed=feed_pieces(paths, marks))
    tally = json.loads(out)
    if tally["accepted"] != total:
        raise bl.BenchError("kmswatch ingest accepted %d of %d"
                            % (tally["accepted"], total))
    # Rate of each million, from the marks; the last one ends at exit.
    edges = [t0] + marks[:-1] + [t0 + secs]
    per_million = [round(MILLION / (b - a)) for a, b in
                   zip(edges, edges[1:]) if b > a]
    size = os.path.getsize(db)
    remove_db(db)
    return {"rows_per_s": round(total / secs), "seconds": round(secs, 2),
            "peak_rss_mib": mem["peak_mib"],
            "steady_rss_mib": mem["steady_mib"], "per_million": per_million,
            "db_bytes": size}


def run_peer(work, prog, pb_file, total):
    """A peer program, run as `PROG DB PBFILE`."""
    db = os.path.join(work, "peer.db")
    remove_db(db)
    out, secs, mem = bl.run_measured(prog + [db, pb_file])
    res = json.loads(out.strip().splitlines()[-1])
    if res["rows"] != total:
        raise bl.BenchError("%s stored %d of %d rows"
                            % (res["peer"], res["rows"], total))
    remove_db(db)
    return {"rows_per_s": res["rows_per_s"], "seconds": res["seconds"],
            "peak_rss_mib": mem["peak_mib"],
            "steady_rss_mib": mem["steady_mib"]}


def remove_db(db):
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(db + suffix):
            os.unlink(db + suffix)


def ingest_size(work, total, runs, naive_runs):
    """Alternating runs of every program on total records; medians."""
    pb = gen_pieces(work, "pb", total, seed=1000 + total // MILLION)
    js = gen_pieces(work, "jsonl", total, seed=1000 + total // MILLION)
    pb_file = concat(pb, os.path.join(work, "all.pb"))
    progs = {
        "kmswatch_pb": lambda: run_kmswatch(work, "pb", pb, total),
        "kmswatch_jsonl": lambda: run_kmswatch(work, "jsonl", js, total),
        "raw_ceiling": lambda: run_peer(work, [RAW], pb_file, total),
        "naive_python": lambda: run_peer(
            work, ["/usr/bin/python3", NAIVE], pb_file, total),
    }
    got = {name: [] for name in progs}
    for r in range(runs):
        order = list(progs)
        order = order[r % len(order):] + order[:r % len(order)]
        for name in order:
            if name == "naive_python" and r >= naive_runs:
                continue
            print("bench: ingest %d %s, run %d" % (total, name, r + 1),
                  flush=True)
            got[name].append(progs[name]())
    for p in pb + js + [pb_file]:
        os.unlink(p)
    return {name: summarise_runs(v) for name, v in got.items() if v}


def summarise_runs(runs):
    """The run with the median rate stands for them all; every rate is
    kept beside it."""
    runs = sorted(runs, key=lambda r: r["rows_per_s"])
    mid = dict(runs[(len(runs) - 1) // 2])
    mid["runs"] = [r["rows_per_s"] for r in runs]
    return mid


def section_ingest(args, work):
    res = {}
    sizes = [MILLION] if args.quick else [MILLION, 10 * MILLION]
    for total in sizes:
        runs = args.runs if total == MILLION else max(1, args.runs - 1)
        # The naive script needs minutes for 10 M: once is enough there.
        naive_runs = runs if total == MILLION else 1
        res[str(total)] = ingest_size(work, total, runs, naive_runs)
    rows = []
    for total, progs in res.items():
        for name, r in progs.items():
            rows.append((name, total, r["rows_per_s"], r["seconds"],
                         r["peak_rss_mib"], r["steady_rss_mib"],
                         " ".join(str(x) for x in r["runs"])))
    bl.print_table("ingest (median of alternating runs)",
                   ("program", "records", "rows/s", "s", "peak MiB",
                    "steady MiB", "every run"), rows)
    for total, progs in res.items():
        pm = progs["kmswatch_pb"]["per_million"]
        if len(pm) > 1:
            print("kmswatch pb, %s records, rows/s per million: %s"
                  % (total, " ".join(str(x) for x in pm)))
    return res


# ---------------------------------------------------------------------------
# queries

def build_db(path, total):
    """gen.py's jsonl over 30 days piped into kmswatch ingest."""
    print("bench: making a %d-record database in %s" % (total, path),
          flush=True)
    remove_db(path)
    t0 = time.perf_counter()
    gen = subprocess.Popen([sys.executable, bl.GEN, "--scenario", SCENARIO,
                            "--format", "jsonl", "--count", str(total),
                            "--seed", "42", "--start", SPAN_START,
                            "--duration", str(SPAN_SECONDS), "--out", "-"],
                           stdout=subprocess.PIPE)
    ing = subprocess.run([bl.BIN, "ingest", "--json", "--format", "jsonl",
                          "--source", "bench", "--db", path, "-"],
                         stdin=gen.stdout, capture_output=True, text=True)
    gen.stdout.close()
    if gen.wait() != 0 or ing.returncode != 0:
        raise bl.BenchError("making %s failed: %s" % (path, ing.stderr))
    secs = time.perf_counter() - t0
    tally = json.loads(ing.stdout)
    return {"records": tally["accepted"], "build_seconds": round(secs, 1),
            "schema": schema_version(path)}


def schema_version(db):
    out = subprocess.run(["sqlite3", db, "PRAGMA user_version"],
                         capture_output=True, text=True, check=True)
    return int(out.stdout.strip() or 0)


def migrate_db(path):
    """Brings a kept database to this binary's schema, as a user's own
    database is brought at upgrade: a writer opening it (an ingest of
    nothing) applies the migrations."""
    empty = path + ".empty"
    open(empty, "wb").close()
    t0 = time.perf_counter()
    out = subprocess.run([bl.BIN, "ingest", "--db", path, empty],
                         capture_output=True, text=True)
    os.unlink(empty)
    if out.returncode != 0:
        raise bl.BenchError("migrating %s failed: %s" % (path, out.stderr))
    secs = round(time.perf_counter() - t0, 2)
    print("bench: migrated %s in %s s" % (path, secs), flush=True)
    return {"schema": schema_version(path), "migrate_seconds": secs}


def cached_db(cache, name, total):
    """The database of a size, made when missing or made by an older
    schema; its sidecar .json says how it was made."""
    os.makedirs(cache, exist_ok=True)
    path = os.path.join(cache, name + ".db")
    meta_path = path + ".json"
    want = {"records": total, "start": SPAN_START, "span": SPAN_SECONDS}
    if os.path.exists(path) and os.path.exists(meta_path):
        with open(meta_path) as f:
            meta = json.load(f)
        if all(meta.get(k) == v for k, v in want.items()):
            if meta.get("schema") != schema_version(path) or \
                    schema_version(path) < LATEST_SCHEMA:
                meta.update(migrate_db(path))
                with open(meta_path, "w") as f:
                    json.dump(meta, f)
            return path, meta
    meta = dict(want, **build_db(path, total))
    with open(meta_path, "w") as f:
        json.dump(meta, f)
    return path, meta


def timed(conn, path, n):
    """n answers to one query after two warm-ups: latencies in ms and
    the size of the last answer."""
    for _ in range(2):
        status, body = bl.get(conn, path)
        if status != 200:
            raise bl.BenchError("%s answered %d: %s" % (path, status,
                                                        body[:200]))
    lat = []
    for _ in range(n):
        t0 = time.perf_counter()
        status, body = bl.get(conn, path)
        lat.append((time.perf_counter() - t0) * 1000)
        if status != 200:
            raise bl.BenchError("%s answered %d" % (path, status))
    lat.sort()
    return {"p50_ms": round(median(lat), 3),
            "p99_ms": round(bl.percentile(lat, 0.99), 3),
            "bytes": len(body)}


def sample_ids(conn, end_s, k):
    """k stored RequestIds from all over the span, read through the
    errors listing (no truth file is kept for big databases)."""
    rng = random.Random(5)
    ids = []
    while len(ids) < k:
        t = rng.randrange(end_s - SPAN_SECONDS + 60, end_s)
        status, body = bl.get(conn, "/api/v1/errors?limit=5&code=%s&to=%d"
                              % (rng.choice(CODES), t))
        if status != 200:
            raise bl.BenchError("errors listing answered %d" % status)
        ids += [i["request_id"] for i in json.loads(body)["items"]]
    return ids[:k]


CODES = ["SignatureNotMatch", "Rejected.Disabled", "Forbidden.KeyNotFound",
         "Rejected.Throttling"]


def lookups(conn, ids):
    lat = []
    for rid in ids:
        t0 = time.perf_counter()
        status, _ = bl.get(conn, "/api/v1/requests/" + rid)
        lat.append((time.perf_counter() - t0) * 1000)
        if status != 200:
            raise bl.BenchError("lookup of %s answered %d" % (rid, status))
    lat.sort()
    return {"p50_ms": round(median(lat), 3),
            "p99_ms": round(bl.percentile(lat, 0.99), 3), "n": len(lat)}


def drop_page_cache():
    """Empties the kernel's page cache (root only); False when it cannot,
    and the cold lookups are left out."""
    try:
        os.sync()
        with open("/proc/sys/vm/drop_caches", "w") as f:
            f.write("1\n")
        return True
    except OSError:
        return False


def query_paths(end_s):
    """The queries an on-call engineer makes, ending at the data's end;
    the ends are not on minute or hour boundaries, so both rollup
    resolutions are read."""
    to = end_s - 1043
    h, d = 3600, 86400
    return {
        "stats_code_1h": "/api/v1/stats?by=code&from=%d&to=%d"
                         % (to - h, to),
        "stats_code_24h": "/api/v1/stats?by=code&from=%d&to=%d"
                          % (to - d, to),
        "stats_code_30d": "/api/v1/stats?by=code&from=%d&to=%d"
                          % (to - 30 * d, to),
        "stats_api_24h": "/api/v1/stats?by=api&from=%d&to=%d"
                         % (to - d, to),
        "timeseries_7d_60s": "/api/v1/timeseries?step=60&from=%d&to=%d"
                             % (to - 7 * d, to),
        # The dashboard's 7-day view: 360 buckets wanted, 30-minute steps.
        "timeseries_7d_1800s": "/api/v1/timeseries?step=1800&from=%d&to=%d"
                               % ((to - 7 * d) // 1800 * 1800,
                                  (to + 1799) // 1800 * 1800),
        "timeseries_7d_60s_one_code":
            "/api/v1/timeseries?step=60&code=Rejected.Disabled"
            "&from=%d&to=%d" % (to - 7 * d, to),
        "errors_latest": "/api/v1/errors?limit=100",
        "errors_code": "/api/v1/errors?code=Rejected.Disabled&limit=100",
        "errors_code_window":
            "/api/v1/errors?code=SignatureNotMatch&from=%d&to=%d&limit=100"
            % (to - 12 * d, to - 11 * d),
        "errors_status_api": "/api/v1/errors?status=404&api=Decrypt"
                             "&limit=100",
        "backtest_7d": "/api/v1/alerts/backtest?from=%d&to=%d"
                       % (to - 7 * d, to),
    }


def measure_queries(db, n):
    end_s = unix_seconds(SPAN_START) + SPAN_SECONDS
    with bl.Daemon(db) as d:
        d.wait_steady()
        conn = http.client.HTTPConnection("127.0.0.1", d.port, timeout=120)
        ids = sample_ids(conn, end_s, 200)
        # Cold: the ids' pages read from disk, as for an old id in a
        # ticket; then warm, the same ids again.
        res = {}
        if drop_page_cache():
            res["lookup_cold"] = lookups(conn, ids)
        res["lookup"] = lookups(conn, ids)
        for name, path in query_paths(end_s).items():
            reps = 5 if name.startswith("backtest") else n
            res[name] = timed(conn, path, reps)
        conn.close()
    return res


def unix_seconds(rfc3339):
    return calendar.timegm(time.strptime(rfc3339, "%Y-%m-%dT%H:%M:%SZ"))


def section_queries(args, work):
    sizes = ["1m"] if args.quick else args.sizes
    res = {}
    for name in sizes:
        db, meta = cached_db(args.cache, name, SIZES[name])
        res[name] = {"db": meta, "queries": measure_queries(db, 50)}
    names = list(next(iter(res.values()))["queries"])
    rows = []
    for q in names:
        row = [q]
        for s in sizes:
            r = res[s]["queries"].get(q)
            row.append("%.2f / %.2f" % (r["p50_ms"], r["p99_ms"]) if r
                       else "-")
        rows.append(row)
    bl.print_table("queries, ms from one keep-alive client (p50 / p99)",
                   tuple(["query"] + sizes), rows)
    for s in sizes:
        m = res[s]["db"]
        print("database %s: %d records, made in %s s" %
              (s, m["records"], m.get("build_seconds")))
    return res


# ---------------------------------------------------------------------------
# http

NGINX_CONF = """worker_processes 2;
pid %(dir)s/nginx.pid;
error_log %(dir)s/error.log;
daemon off;
events { worker_connections 1024; }
http {
  access_log off;
  server {
    listen 127.0.0.1:%(port)d;
    root %(dir)s/www;
    default_type application/json;
  }
}
"""


class Nginx:
    """Debian's nginx serving the files of dir/www on a free port."""

    def __init__(self, dir):
        self.dir, self.port = dir, bl.free_port()
        conf = os.path.join(dir, "nginx.conf")
        with open(conf, "w") as f:
            f.write(NGINX_CONF % {"dir": dir, "port": self.port})
        self.proc = subprocess.Popen(["nginx", "-c", conf, "-e",
                                      os.path.join(dir, "error.log")],
                                     stderr=subprocess.DEVNULL)

    def __enter__(self):
        for _ in range(100):
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port,
                                                  timeout=2)
                bl.get(conn, "/")
                return self
            except OSError:
                time.sleep(0.05)
        raise bl.BenchError("nginx did not start")

    def __exit__(self, *exc):
        self.proc.terminate()
        self.proc.wait(10)


def section_http(args, work):
    if shutil.which("wrk") is None or shutil.which("nginx") is None:
        raise bl.BenchError("wrk and nginx are needed (make bench "
                            "installs them)")
    size = "1m" if args.quick else args.sizes[-1]
    db, _ = cached_db(args.cache, size, SIZES[size])
    end_s = unix_seconds(SPAN_START) + SPAN_SECONDS
    www = os.path.join(work, "www")
    os.makedirs(www, exist_ok=True)
    # nginx's workers run as another user: mkdtemp's 0700 would stop them.
    os.chmod(work, 0o755)
    os.chmod(www, 0o755)
    stats = query_paths(end_s)["stats_code_24h"]
    series = query_paths(end_s)["timeseries_7d_60s"]
    with bl.Daemon(db) as d:
        d.wait_steady()
        conn = http.client.HTTPConnection("127.0.0.1", d.port, timeout=60)
        ids = sample_ids(conn, end_s, 2000)
        # nginx serves answers of the same sizes as static files.
        with open(os.path.join(www, "lookup.json"), "wb") as f:
            f.write(bl.get(conn, "/api/v1/requests/" + ids[0])[1])
        with open(os.path.join(www, "stats.json"), "wb") as f:
            f.write(bl.get(conn, stats)[1])
        with open(os.path.join(www, "series.json"), "wb") as f:
            f.write(bl.get(conn, series)[1])
        conn.close()
        idfile = os.path.join(work, "ids.txt")
        with open(idfile, "w") as f:
            f.write("\n".join(ids) + "\n")
        return wrk_rounds(args, d, www, idfile, (stats, series))


def wrk_rounds(args, daemon, www, idfile, paths):
    """Rounds of wrk on each target in turn; the 7-day series at 60 s
    (3 MB) is asked over one connection, beside nginx sending the same
    bytes, to show what its size alone costs."""
    secs = 3 if args.quick else 8
    stats, series = paths
    got = {k: [] for k in ("lookup", "stats", "nginx_lookup",
                           "nginx_stats", "lookup_1conn",
                           "nginx_lookup_1conn", "series_1conn",
                           "nginx_series_1conn")}
    kms = "http://127.0.0.1:%d" % daemon.port
    with Nginx(os.path.dirname(www)) as ng, \
            bl.RssSampler(daemon.proc.pid) as rss:
        ngx = "http://127.0.0.1:%d" % ng.port
        for r in range(args.runs):
            print("bench: wrk round %d" % (r + 1), flush=True)
            got["lookup"].append(bl.wrk(kms, secs, path="/api/v1/requests/",
                                        ids=idfile))
            got["nginx_lookup"].append(bl.wrk(ngx, secs,
                                              path="/lookup.json"))
            got["nginx_stats"].append(bl.wrk(ngx, secs, path="/stats.json"))
            got["stats"].append(bl.wrk(kms, secs, path=stats))
            # One connection: the latency of a lookup with no queue.
            got["lookup_1conn"].append(bl.wrk(
                kms, secs, 1, 1, path="/api/v1/requests/", ids=idfile))
            got["nginx_lookup_1conn"].append(bl.wrk(
                ngx, secs, 1, 1, path="/lookup.json"))
            got["series_1conn"].append(bl.wrk(kms, secs, 1, 1, path=series))
            got["nginx_series_1conn"].append(bl.wrk(
                ngx, secs, 1, 1, path="/series.json"))
    res = {}
    for k, runs in got.items():
        runs.sort(key=lambda r: r["rps"])
        mid = dict(runs[(len(runs) - 1) // 2])
        mid["runs"] = [r["rps"] for r in runs]
        mid["errors"] = sum(r["errors"] for r in runs)
        res[k] = mid
    res["serving_rss"] = rss.figures()
    rows = [(k, r["rps"], r["p50_ms"], r["p99_ms"], r["errors"],
             " ".join(str(x) for x in r["runs"]))
            for k, r in res.items() if k != "serving_rss"]
    bl.print_table("http: wrk, 2 threads and 16 connections, or 1 and 1 "
                   "(median round)",
                   ("target", "req/s", "p50 ms", "p99 ms", "errors",
                    "every round"), rows)
    print("kmswatch RSS under this load: peak %s MiB, steady %s MiB"
          % (res["serving_rss"]["peak_mib"], res["serving_rss"]
             ["steady_mib"]))
    return res


# ---------------------------------------------------------------------------
# size

def section_size(args, work):
    import sqlite3
    sizes = ["1m"] if args.quick else args.sizes
    res = {}
    for name in sizes:
        db, meta = cached_db(args.cache, name, SIZES[name])
        conn = sqlite3.connect("file:%s?mode=ro" % db, uri=True)
        parts = dict(conn.execute(
            "SELECT name, SUM(pgsize) FROM dbstat GROUP BY name"))
        conn.close()
        total = os.path.getsize(db)
        groups = size_groups(parts)
        res[name] = {"db_bytes": total, "records": meta["records"],
                     "bytes_per_record":
                         round(total / meta["records"], 1),
                     "groups_bytes_per_record":
                         {k: round(v / meta["records"], 1)
                          for k, v in groups.items()}}
    keys = list(next(iter(res.values()))["groups_bytes_per_record"])
    rows = [("whole file", *[res[s]["bytes_per_record"] for s in sizes])]
    rows += [(k, *[res[s]["groups_bytes_per_record"][k] for s in sizes])
             for k in keys]
    bl.print_table("size: bytes per stored record", tuple(["part"] + sizes),
                   rows)
    return res


def size_groups(parts):
    """Tables and indexes in the groups a reader asks about."""
    groups = {"records table": ["records"],
              "(code, time) index": ["records_code_time"],
              "RequestId index": ["rid_index", "rid_runs", "rid_overflow"],
              "rollups": [n for n in parts if n.startswith(
                  ("rollup_", "code_", "responses_"))]}
    out = {k: sum(parts.get(n, 0) for n in v) for k, v in groups.items()}
    named = {n for v in groups.values() for n in v}
    out["everything else"] = sum(v for n, v in parts.items()
                                 if n not in named)
    return out


# ---------------------------------------------------------------------------

def section_follow(args, work):
    return follow.measure(quick=args.quick)


SECTIONS = {"ingest": section_ingest, "follow": section_follow,
            "queries": section_queries, "http": section_http,
            "size": section_size}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sections", default=",".join(SECTIONS))
    ap.add_argument("--sizes", default="1m,10m,100m",
                    help="query database sizes (1m, 10m, 100m)")
    ap.add_argument("--runs", type=int, default=3,
                    help="alternating runs per program (default 3)")
    ap.add_argument("--quick", action="store_true",
                    help="1 M records only, short wrk rounds: a check "
                    "that the suite runs, not figures to quote")
    ap.add_argument("--cache", default=os.path.join(bl.ROOT, "build",
                                                    "bench-cache"),
                    help="where the query databases are kept")
    ap.add_argument("--work", help="scratch folder (default: a new one "
                    "in /var/tmp, removed at the end)")
    args = ap.parse_args()
    args.sizes = [s for s in args.sizes.split(",") if s]
    for s in args.sizes:
        if s not in SIZES:
            ap.error("--sizes: unknown size %r" % s)
    wanted = [s for s in args.sections.split(",") if s]
    for s in wanted:
        if s not in SECTIONS:
            ap.error("--sections: unknown section %r" % s)

    work = args.work or tempfile.mkdtemp(prefix="kmswatch-bench-",
                                         dir="/var/tmp")
    os.makedirs(work, exist_ok=True)
    results = {}
    try:
        for name in wanted:
            results[name] = SECTIONS[name](args, work)
            bl.write_result(name, {"when": now(), "quick": args.quick,
                                   name: results[name]})
    except bl.BenchError as e:
        print("bench: %s" % e, file=sys.stderr)
        return 1
    finally:
        if not args.work:
            shutil.rmtree(work, ignore_errors=True)
    # Sections not run this time are judged by their last results, whose
    # times the summary keeps beside them.
    when = {name: now() for name in results}
    for name in SECTIONS:
        if name not in results:
            last = bl.read_result(name)
            if last is not None and name in last:
                results[name], when[name] = last[name], last.get("when")
    summary = targets.check(results)
    bl.write_result("summary", {"when": now(), "quick": args.quick,
                                "measured": when, "targets": summary})
    return 0


def now():
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


if __name__ == "__main__":
    sys.exit(main())
