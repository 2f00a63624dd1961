"""test_api.py - the HTTP JSON API of `kmswatch serve`, end to end.

The daemon serves a database holding the generated HTTP and pb captures
(conftest.py's `ingested`), and every expectation comes from their truth
files.  Covers: /healthz; /api/v1/requests/{id} (found, 404, 400);
/api/v1/errors paging (each record exactly once, newest first), its code,
status, api and from/to filters, and refused parameters; /api/v1/stats by
code, status, api and category, all-time and in a window widened to whole
minutes, with shares and top; /api/v1/timeseries sums per code and its
zero-filled grid for steps of 60 and 300 s; /api/v1/codes; unknown paths
(404), other methods (405 with Allow); the error body shape and
Content-Type of every error; and a clean stop on SIGINT and SIGTERM.
"""

import concurrent.futures
import random
import signal
import urllib.parse

import pytest

from conftest import (MINUTE_MS, ceil_to, count_by, expected_category,
                      floor_to, masked, parse_rfc3339_ms, rfc3339,
                      rfc3339_s)

ERROR_CODES = {400: "bad_parameter", 404: "not_found",
               405: "method_not_allowed", 500: "internal"}
RECORD_KEYS = {"request_id", "status", "code", "message", "time", "api",
               "source", "offset", "category", "known", "meaning", "action",
               "flags"}


def q(path, **params):
    return path + ("?" + urllib.parse.urlencode(params) if params else "")


def get_ok(client, path):
    status, headers, doc = client.get(path)
    assert status == 200, (path, status, doc)
    assert headers["Content-Type"] == "application/json"
    return doc


def check_error(status, headers, doc, want_status):
    assert status == want_status, (status, doc)
    assert headers["Content-Type"] == "application/json"
    assert set(doc) == {"error"}, doc
    assert set(doc["error"]) == {"code", "message"}, doc
    assert doc["error"]["code"] == ERROR_CODES[want_status], doc
    assert isinstance(doc["error"]["message"], str) and \
        doc["error"]["message"], doc


def get_error(client, path, want_status, method="GET"):
    status, headers, doc = client.request(method, path)
    check_error(status, headers, doc, want_status)
    return headers, doc


# ---------------------------------------------------------------------------
# /healthz

def test_healthz(daemon, ingested):
    doc = get_ok(daemon, "/healthz")
    assert set(doc) == {"status", "schema_version", "records", "rejects",
                        "newest"}
    assert doc["status"] == "ok"
    assert isinstance(doc["schema_version"], int) and \
        doc["schema_version"] >= 1
    assert doc["records"] == len(ingested.records)
    assert doc["rejects"] == 0
    # The newest record is the last one stored: the pb file's last.
    assert doc["newest"] == rfc3339(ingested.records[-1]["time_ms"])


def test_healthz_head(daemon):
    status, headers, doc = daemon.request("HEAD", "/healthz")
    assert status == 200 and doc is None
    assert headers["Content-Type"] == "application/json"


def test_clean_stop_on_sigint_with_an_empty_database(make_daemon, tmp):
    d = make_daemon(tmp / "empty.db")
    doc = get_ok(d.client, "/healthz")
    assert (doc["status"], doc["records"], doc["rejects"]) == ("ok", 0, 0)
    assert doc["newest"] is None
    d.assert_stops_cleanly(signal.SIGINT)


def test_records_ingested_while_serving_show_up(make_daemon, tmp, kmswatch,
                                                captures):
    d = make_daemon(tmp / "live.db")
    before = get_ok(d.client, "/healthz")
    assert before["records"] == 0
    cap = captures["small_http"]
    assert kmswatch("ingest", "--db", tmp / "live.db", cap.path).rc == 0
    after = get_ok(d.client, "/healthz")
    assert after["records"] == len(cap.errors)
    assert after["newest"] == rfc3339(cap.errors[-1]["time_ms"])
    t = cap.errors[0]
    doc = get_ok(d.client, "/api/v1/requests/" + t["request_id"])
    assert doc["code"] == t["code"]
    stats = get_ok(d.client, "/api/v1/stats")
    assert stats["total"] == len(cap.errors)
    d.assert_stops_cleanly(signal.SIGTERM)


def test_concurrent_requests(daemon, ingested):
    """More clients at once than the daemon has workers and readers."""
    rids = [t["request_id"] for t in ingested.records[::97]][:24]
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        docs = list(pool.map(
            lambda rid: get_ok(daemon, "/api/v1/requests/" + rid), rids))
        stats = list(pool.map(lambda _: get_ok(daemon, "/api/v1/stats"),
                              range(16)))
    assert [d["request_id"] for d in docs] == rids
    assert all(s["total"] == len(ingested.records) for s in stats)


# ---------------------------------------------------------------------------
# /api/v1/requests/{id}

def test_requests_match_truth(daemon, ingested, catalog_md):
    rng = random.Random(7)
    sample = rng.sample(ingested.records[:len(ingested.http.errors)], 8) + \
        rng.sample(ingested.records[len(ingested.http.errors):], 4)
    for t in sample:
        doc = get_ok(daemon, "/api/v1/requests/" + t["request_id"])
        assert set(doc) == RECORD_KEYS, doc
        assert doc["request_id"] == t["request_id"]
        # The API masks AccessKey IDs by default (test_security.py).
        assert (doc["code"], doc["status"], doc["message"], doc["api"]) == (
            t["code"], t["status"], masked(t["message"]), t["api"])
        assert parse_rfc3339_ms(doc["time"]) == t["time_ms"]
        assert doc["category"] == expected_category(catalog_md, t["code"],
                                                    t["message"])
        assert set(doc["flags"]) == {"body_status", "catalog_status"}
        assert doc["flags"]["body_status"] is None


def test_request_absent_is_404(daemon):
    _, doc = get_error(daemon, "/api/v1/requests/NO-SUCH-REQUEST-ID", 404)
    assert "NO-SUCH-REQUEST-ID" in doc["error"]["message"]


@pytest.mark.parametrize("rid", [
    "has%20space", "semi;colon", "a%2Fb", "quote%22", "x" * 129, "",
    "nul%00byte", "%C3%A9t%C3%A9"],
    ids=["space", "semicolon", "slash", "quote", "too_long", "empty", "nul",
         "non_ascii"])
def test_request_malformed_id_is_400(daemon, rid):
    get_error(daemon, "/api/v1/requests/" + rid, 400)


def test_request_id_of_128_characters_is_well_formed(daemon):
    get_error(daemon, "/api/v1/requests/" + "x" * 128, 404)


# ---------------------------------------------------------------------------
# /api/v1/errors

def page_all(client, limit, **filters):
    """Every item of a listing, following next_cursor; checks page sizes."""
    items, cursor, pages = [], None, 0
    while True:
        params = dict(filters, limit=limit)
        if cursor is not None:
            params["cursor"] = cursor
        doc = get_ok(client, q("/api/v1/errors", **params))
        assert set(doc) == {"items", "next_cursor"}
        assert len(doc["items"]) <= limit
        items += doc["items"]
        pages += 1
        assert pages < 10000, "paging does not end"
        cursor = doc["next_cursor"]
        if cursor is None:
            return items
        assert isinstance(cursor, str)
        assert len(doc["items"]) == limit, "a short page with a next page"


def test_errors_paging_returns_each_record_once_newest_first(daemon,
                                                             ingested):
    items = page_all(daemon, 250)
    ids = [it["request_id"] for it in items]
    assert len(ids) == len(set(ids)), "a record came back twice"
    # Newest first: the reverse of the order they were stored in.
    assert ids == [t["request_id"] for t in reversed(ingested.records)]
    for it in items[:5] + items[-5:]:
        assert set(it) == RECORD_KEYS


def test_errors_default_limit(daemon, ingested):
    doc = get_ok(daemon, "/api/v1/errors")
    assert len(doc["items"]) == min(100, len(ingested.records))


@pytest.mark.parametrize("limit", [1, 1000])
def test_errors_limit_bounds(daemon, ingested, limit):
    doc = get_ok(daemon, q("/api/v1/errors", limit=limit))
    assert [it["request_id"] for it in doc["items"]] == [
        t["request_id"] for t in reversed(ingested.records)][:limit]


def _most_common(records, key):
    counts = count_by([r for r in records if key(r) is not None], key)
    return max(counts, key=lambda k: (counts[k], str(k)))


@pytest.mark.parametrize("field", ["code", "status", "api"])
def test_errors_filter(daemon, ingested, field):
    value = _most_common(ingested.records, lambda t: t[field])
    items = page_all(daemon, 1000, **{field: value})
    want = [t["request_id"] for t in reversed(ingested.records)
            if t[field] == value]
    assert [it["request_id"] for it in items] == want
    assert all(it[field] == value for it in items)


def test_errors_filters_combine(daemon, ingested):
    recs = [t for t in ingested.http.errors]
    code = _most_common(recs, lambda t: t["code"])
    api = _most_common([t for t in recs if t["code"] == code],
                       lambda t: t["api"])
    items = page_all(daemon, 1000, code=code, api=api)
    want = [t["request_id"] for t in reversed(ingested.records)
            if t["code"] == code and t["api"] == api]
    assert want and [it["request_id"] for it in items] == want


def test_errors_filter_matching_nothing(daemon):
    doc = get_ok(daemon, q("/api/v1/errors", code="NoSuchCode"))
    assert doc == {"items": [], "next_cursor": None}


def test_errors_from_to_exact(daemon, ingested):
    """The listing's range is [from, to) to the millisecond, not widened."""
    times = sorted({t["time_ms"] for t in ingested.http.errors})
    lo, hi = times[len(times) // 4], times[len(times) // 2]
    items = page_all(daemon, 1000, **{"from": rfc3339_s(lo),
                                      "to": rfc3339_s(hi)})
    want = [t["request_id"] for t in reversed(ingested.records)
            if lo <= t["time_ms"] < hi]
    assert want and [it["request_id"] for it in items] == want


def test_errors_empty_value_counts_as_absent(daemon):
    a = get_ok(daemon, q("/api/v1/errors", limit=5))
    b = get_ok(daemon, "/api/v1/errors?limit=5&code=&api=&status=")
    assert a == b


BAD_ERRORS_PARAMS = [
    "limit=0", "limit=1001", "limit=-1", "limit=ten", "limit=1.5",
    "status=99", "status=600", "status=4xx", "status=-404",
    "from=yesterday", "from=1969-12-31T23:59:59Z", "to=2026-02-30T00:00:00Z",
    "from=2026-12-03T10:00:00Z&to=2026-12-03T10:00:00Z",
    "from=2026-12-03T10:00:00Z&to=2026-12-03T09:00:00Z",
    "cursor=0", "cursor=-5", "cursor=abc", "cursor=99999999999999999999",
    "colour=red", "limit=5&limit=6", "code=" + "X" * 129,
]


@pytest.mark.parametrize("query", BAD_ERRORS_PARAMS)
def test_errors_bad_parameters_are_400(daemon, query):
    get_error(daemon, "/api/v1/errors?" + query, 400)


# ---------------------------------------------------------------------------
# /api/v1/stats

def truth_key(by, catalog):
    if by == "category":
        return lambda t: expected_category(catalog, t["code"], t["message"])
    return lambda t: t[by]


def check_stats(doc, expected, top=None):
    total = sum(expected.values())
    assert doc["total"] == total
    groups = doc["groups"]
    for g in groups:
        want = {"key", "count", "share"}
        if doc["by"] == "api":
            want.add("responses")
        assert set(g) == want
        assert abs(g["share"] - g["count"] / total) <= 0.00005 + 1e-9, g
    counts = [g["count"] for g in groups]
    assert counts == sorted(counts, reverse=True)
    if top is None:
        assert {g["key"]: g["count"] for g in groups} == expected
        assert len(groups) == len(expected)
        assert abs(sum(g["share"] for g in groups) - 1) <= \
            0.00005 * len(groups) + 1e-9
    else:
        assert len(groups) == min(top, len(expected))
        assert counts == sorted(expected.values(), reverse=True)[:top]
        assert all(expected[g["key"]] == g["count"] for g in groups)


@pytest.mark.parametrize("by", ["code", "status", "api", "category"])
def test_stats_all_time(daemon, ingested, catalog_md, by):
    doc = get_ok(daemon, q("/api/v1/stats", by=by))
    assert set(doc) == {"from", "to", "by", "total", "groups"}
    assert (doc["from"], doc["to"], doc["by"]) == (None, None, by)
    check_stats(doc, count_by(ingested.records, truth_key(by, catalog_md)))


def test_stats_default_is_by_code(daemon):
    a = get_ok(daemon, "/api/v1/stats")
    b = get_ok(daemon, q("/api/v1/stats", by="code"))
    assert a == b


@pytest.mark.parametrize("by", ["code", "status", "api", "category"])
def test_stats_window_widened_to_minutes(daemon, ingested, catalog_md, by):
    lo, hi = ingested.window(0.3, 0.7)
    doc = get_ok(daemon, q("/api/v1/stats", by=by, **{
        "from": rfc3339_s(lo), "to": rfc3339_s(hi)}))
    wlo, whi = floor_to(lo, MINUTE_MS), ceil_to(hi, MINUTE_MS)
    assert (doc["from"], doc["to"]) == (rfc3339(wlo), rfc3339(whi))
    inside = [t for t in ingested.records if wlo <= t["time_ms"] < whi]
    strict = [t for t in ingested.records if lo <= t["time_ms"] < hi]
    assert len(inside) > len(strict)
    check_stats(doc, count_by(inside, truth_key(by, catalog_md)))


def test_stats_open_ended_windows(daemon, ingested):
    lo, hi = ingested.window(0.3, 0.7)
    doc = get_ok(daemon, q("/api/v1/stats", **{"from": rfc3339_s(lo)}))
    wlo = floor_to(lo, MINUTE_MS)
    assert (doc["from"], doc["to"]) == (rfc3339(wlo), None)
    assert doc["total"] == sum(1 for t in ingested.records
                               if t["time_ms"] >= wlo)
    doc = get_ok(daemon, q("/api/v1/stats", to=rfc3339_s(hi)))
    whi = ceil_to(hi, MINUTE_MS)
    assert (doc["from"], doc["to"]) == (None, rfc3339(whi))
    assert doc["total"] == sum(1 for t in ingested.records
                               if t["time_ms"] < whi)


def test_stats_window_with_offset_and_unix_seconds(daemon, ingested):
    lo, hi = ingested.window(0.3, 0.7)
    z = get_ok(daemon, q("/api/v1/stats", **{"from": rfc3339_s(lo),
                                             "to": rfc3339_s(hi)}))
    unix = get_ok(daemon, q("/api/v1/stats", **{"from": lo // 1000,
                                                "to": hi // 1000}))
    # 09:10:00Z written as 10:10:00+01:00, '+' encoded as %2B.
    plus1 = lambda ms: rfc3339_s(ms + 3600000).replace("Z", "+01:00")
    offset = get_ok(daemon, q("/api/v1/stats", **{"from": plus1(lo),
                                                  "to": plus1(hi)}))
    assert z == unix == offset


def test_stats_raw_plus_in_offset(daemon, ingested):
    """A '+' not written as %2B arrives as a space; the API restores it."""
    lo, _ = ingested.window(0.3, 0.7)
    want = get_ok(daemon, q("/api/v1/stats", **{"from": rfc3339_s(lo)}))
    raw = rfc3339_s(lo + 3600000).replace("Z", "+01:00")
    got = get_ok(daemon, "/api/v1/stats?from=" + raw)
    assert got == want


def test_stats_raw_plus_in_offset_with_space_separator(daemon, ingested):
    lo, _ = ingested.window(0.3, 0.7)
    want = get_ok(daemon, q("/api/v1/stats", **{"from": rfc3339_s(lo)}))
    raw = rfc3339_s(lo + 3600000).replace("Z", "+01:00").replace("T", "+")
    got = get_ok(daemon, "/api/v1/stats?from=" + raw)
    assert got == want


@pytest.mark.parametrize("top", [1, 3])
def test_stats_top(daemon, ingested, top):
    doc = get_ok(daemon, q("/api/v1/stats", top=top))
    check_stats(doc, count_by(ingested.records, lambda t: t["code"]),
                top=top)


BAD_STATS_PARAMS = ["by=region", "by=CODE", "top=0", "top=1001", "top=x",
                    "from=now", "to=2026-12-03T25:00:00Z",
                    "from=2026-12-03T10:00:00Z&to=2026-12-03T09:59:00Z",
                    "step=60", "by=code&by=api", "api=Decrypt"]


@pytest.mark.parametrize("query", BAD_STATS_PARAMS)
def test_stats_bad_parameters_are_400(daemon, query):
    get_error(daemon, "/api/v1/stats?" + query, 400)


def test_stats_code_filter(daemon, ingested, catalog_md):
    code = "Rejected.Disabled"
    doc = get_ok(daemon, q("/api/v1/stats", by="status", code=code))
    mine = [t for t in ingested.records if t["code"] == code]
    assert mine
    check_stats(doc, count_by(mine, truth_key("status", catalog_md)))


def test_stats_by_api_counts_responses(daemon, ingested):
    doc = get_ok(daemon, q("/api/v1/stats", by="api"))
    seen = count_by(ingested.oks, lambda t: t["api"])
    assert sum(seen.values()) > 0
    for g in doc["groups"]:
        assert g["responses"] == seen.get(g["key"], 0), g


def test_dashboard_is_served_at_root(daemon):
    import urllib.request
    with urllib.request.urlopen(daemon.base + "/", timeout=10) as resp:
        body = resp.read()
        assert resp.headers["Content-Type"].startswith("text/html")
        assert "default-src 'self'" in resp.headers[
            "Content-Security-Policy"]
    assert b"<html" in body.lower()


# ---------------------------------------------------------------------------
# /api/v1/timeseries

def _ts_window(ingested):
    """A whole-hour-aligned range inside the HTTP capture."""
    first = min(t["time_ms"] for t in ingested.http.errors)
    lo = ceil_to(first, 300000) + 600000
    return lo, lo + 1800000


@pytest.mark.parametrize("step", [60, 300])
def test_timeseries_sums_and_grid(daemon, ingested, step):
    lo, hi = _ts_window(ingested)
    doc = get_ok(daemon, q("/api/v1/timeseries", step=step, **{
        "from": rfc3339_s(lo), "to": rfc3339_s(hi)}))
    assert set(doc) == {"from", "to", "step", "series"}
    assert (doc["from"], doc["to"], doc["step"]) == (rfc3339(lo),
                                                     rfc3339(hi), step)
    inside = [t for t in ingested.records if lo <= t["time_ms"] < hi]
    want = count_by(inside, lambda t: t["code"])
    nbuckets = (hi - lo) // (step * 1000)
    grid = [lo // 1000 + i * step for i in range(nbuckets)]
    sums = {}
    for s in doc["series"]:
        assert set(s) == {"code", "points"}
        assert [p[0] for p in s["points"]] == grid, "not zero-filled"
        sums[s["code"]] = sum(p[1] for p in s["points"])
        # Each bucket holds the records of its own step.
        for t0, n in s["points"]:
            assert n == sum(1 for t in inside if t["code"] == s["code"] and
                            t0 * 1000 <= t["time_ms"] < (t0 + step) * 1000)
    assert sums == want
    totals = [sums[s["code"]] for s in doc["series"]]
    assert totals == sorted(totals, reverse=True), "largest first"


def test_timeseries_unaligned_range_is_widened_to_steps(daemon, ingested):
    lo, hi = _ts_window(ingested)
    step = 300
    a, b = lo + 61000, hi - 119000
    doc = get_ok(daemon, q("/api/v1/timeseries", step=step, **{
        "from": rfc3339_s(a), "to": rfc3339_s(b)}))
    wlo, whi = floor_to(a, step * 1000), ceil_to(b, step * 1000)
    assert (doc["from"], doc["to"]) == (rfc3339(wlo), rfc3339(whi))
    inside = [t for t in ingested.records if wlo <= t["time_ms"] < whi]
    for s in doc["series"]:
        assert len(s["points"]) == (whi - wlo) // (step * 1000)
    assert {s["code"]: sum(p[1] for p in s["points"])
            for s in doc["series"]} == count_by(inside, lambda t: t["code"])


def test_timeseries_code_filter(daemon, ingested):
    lo, hi = _ts_window(ingested)
    inside = [t for t in ingested.records if lo <= t["time_ms"] < hi]
    code = _most_common(inside, lambda t: t["code"])
    doc = get_ok(daemon, q("/api/v1/timeseries", step=300, code=code, **{
        "from": rfc3339_s(lo), "to": rfc3339_s(hi)}))
    assert [s["code"] for s in doc["series"]] == [code]
    assert sum(p[1] for p in doc["series"][0]["points"]) == \
        sum(1 for t in inside if t["code"] == code)


def test_timeseries_default_range_is_the_last_hour(daemon):
    doc = get_ok(daemon, "/api/v1/timeseries")
    lo, hi = parse_rfc3339_ms(doc["from"]), parse_rfc3339_ms(doc["to"])
    assert hi - lo == 3600000 and lo % MINUTE_MS == 0
    assert doc["step"] == 60
    for s in doc["series"]:
        assert len(s["points"]) == 60


BAD_TIMESERIES_PARAMS = ["step=90", "step=0", "step=30", "step=-60",
                         "step=1m", "step=31622460",
                         "from=2026-01-01T00:00:00Z&to=2026-12-01T00:00:00Z",
                         "from=2026-12-03T10:00:00Z&to=2026-12-03T10:00:00Z",
                         "from=soon", "by=code", "limit=5"]


@pytest.mark.parametrize("query", BAD_TIMESERIES_PARAMS)
def test_timeseries_bad_parameters_are_400(daemon, query):
    get_error(daemon, "/api/v1/timeseries?" + query, 400)


# ---------------------------------------------------------------------------
# /api/v1/codes, routing and methods.

def test_codes(daemon, catalog_md):
    doc = get_ok(daemon, "/api/v1/codes")
    assert set(doc) == {"codes"}
    got = sorted((c["status"], c["code"], c["message"], c["category"],
                  c["documented"]) for c in doc["codes"])
    assert got == sorted((r["status"], r["code"], r["template"],
                          r["category"], r["documented"])
                         for r in catalog_md)


@pytest.mark.parametrize("path", ["/nope", "/api/v1", "/api/v1/",
                                  "/api/v1/error", "/api/v1/errors/",
                                  "/api/v2/errors", "/healthz/x",
                                  "/api/v1/requests"])
def test_unknown_path_is_404(daemon, path):
    get_error(daemon, path, 404)


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH"])
@pytest.mark.parametrize("path", ["/healthz", "/api/v1/errors",
                                  "/api/v1/codes"])
def test_other_methods_are_405_with_allow(daemon, method, path):
    headers, _ = get_error(daemon, path, 405, method=method)
    allow = {m.strip() for m in headers["Allow"].split(",")}
    assert allow == {"GET", "HEAD"}


def test_unknown_parameter_on_a_parameterless_endpoint(daemon):
    for path in ("/healthz?verbose=1", "/api/v1/codes?lang=ja",
                 "/api/v1/requests/ABC?x=1"):
        get_error(daemon, path, 400)
