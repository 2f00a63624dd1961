"""targets.py - the figures bench.py measured, held against the targets.

Each target names the figure it reads and the bound it must meet; a
section that was not run leaves its targets "not measured".  The table is
printed, and returned for bench/results/summary.json.
"""
import benchlib as bl

MIB_MAX = 64
QUERY_MS_MAX = 10
LOOKUP_P99_MS_MAX = 2


def _ingest(res, total, prog):
    return res.get("ingest", {}).get(str(total), {}).get(prog)


def _ratio(a, b):
    if not a or not b:
        return None
    return a["rows_per_s"] / b["rows_per_s"]


def _ingest_targets(res):
    out = []
    for total in (1000000, 10000000):
        pb = _ingest(res, total, "kmswatch_pb")
        raw = _ingest(res, total, "raw_ceiling")
        naive = _ingest(res, total, "naive_python")
        js = _ingest(res, total, "kmswatch_jsonl")
        m = "%d M" % (total // 1000000)
        out.append(("ingest pb >= 50% of raw SQLite, " + m,
                    _ratio(pb, raw), 0.5, "ratio"))
        out.append(("ingest pb >= 10x naive Python, " + m,
                    _ratio(pb, naive), 10, "ratio"))
        out.append(("ingest jsonl >= 50% of pb, " + m,
                    _ratio(js, pb), 0.5, "ratio"))
        if pb and len(pb["per_million"]) > 1 and raw:
            worst = min(pb["per_million"]) / raw["rows_per_s"]
            out.append(("slowest million >= 50% of raw, " + m, worst, 0.5,
                        "ratio"))
        if total == 10000000 and pb:
            out.append(("ingest peak RSS < 64 MiB, 10 M",
                        pb["peak_rss_mib"], MIB_MAX, "max"))
    return out


def _query_targets(res):
    """The slowest stats query, the slowest one-code series, and the
    slower of the all-code week series (200,000 points at 60 s, or the
    dashboard's 30-minute steps), by size."""
    out = []
    groups = (("stats p50 < 10 ms", lambda k: k.startswith("stats_")),
              ("one-code series p50 < 10 ms",
               lambda k: k.startswith("timeseries_") and
               k.endswith("one_code")),
              ("all-code 7-day series p50 < 10 ms",
               lambda k: k.startswith("timeseries_7d") and
               not k.endswith("one_code")))
    for size, r in res.get("queries", {}).items():
        for label, pick in groups:
            got = [v["p50_ms"] for k, v in r["queries"].items() if pick(k)]
            if got:
                out.append(("%s, %s" % (label, size), max(got),
                            QUERY_MS_MAX, "max"))
    return out


def _http_targets(res):
    h = res.get("http")
    if not h:
        return []
    return [
        ("lookup req/s >= 50% of nginx", h["lookup"]["rps"] /
         h["nginx_lookup"]["rps"], 0.5, "ratio"),
        ("lookup p99 < 2 ms, one connection", h["lookup_1conn"]["p99_ms"],
         LOOKUP_P99_MS_MAX, "max"),
        ("lookup p99 < 2 ms, 16 connections", h["lookup"]["p99_ms"],
         LOOKUP_P99_MS_MAX, "max"),
        ("nginx p99, 16 connections, for comparison",
         h["nginx_lookup"]["p99_ms"], LOOKUP_P99_MS_MAX, "info"),
        ("serving peak RSS < 64 MiB", h["serving_rss"]["peak_mib"],
         MIB_MAX, "max"),
        ("no failed or non-2xx requests under wrk",
         sum(v["errors"] for k, v in h.items() if k != "serving_rss"),
         1, "max"),
    ]


def check(res):
    rows = _ingest_targets(res) + _query_targets(res) + _http_targets(res)
    table, out = [], []
    for name, value, bound, kind in rows:
        if value is None:
            verdict = "not measured"
        elif kind == "info":
            verdict = "reference"
        elif kind == "max":
            verdict = "met" if value < bound else "MISSED"
        else:
            verdict = "met" if value >= bound else "MISSED"
        shown = "-" if value is None else "%.2f" % value
        table.append((name, shown, verdict))
        out.append({"target": name, "value": value, "bound": bound,
                    "verdict": verdict})
    bl.print_table("targets", ("target", "figure", "verdict"), table)
    return out
