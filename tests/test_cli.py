"""test_cli.py - the kmswatch command line, other than ingest's parsing.

Covers: --help (exit 0, "Usage") for kmswatch and every subcommand, and
exit 2 for no command, an unknown command and bad options; `codes` and
`codes --json` against the reference catalog (error-codes.md); `stats`
(text and --json) against the truth counts of the ingested captures,
all-time and by code, status, api and category, with --from/--to narrowing
(widened to whole minutes) and --top; `lookup` of present and absent
RequestIds (exit 1 when any is absent).
"""

import re

import pytest

from conftest import (MINUTE_MS, ceil_to, count_by, expected_category,
                      floor_to, lookup_records, rfc3339_s)

COMMANDS = ["serve", "ingest", "lookup", "stats", "codes"]


# ---------------------------------------------------------------------------
# Help and usage errors.

@pytest.mark.parametrize("argv", [["--help"], ["-h"]] +
                         [[c, "--help"] for c in COMMANDS] +
                         [[c, "-h"] for c in COMMANDS],
                         ids=lambda a: " ".join(a))
def test_help(kmswatch, argv):
    res = kmswatch(*argv)
    assert res.rc == 0, res
    assert res.stdout.startswith("Usage: kmswatch"), res
    if len(argv) == 2:
        assert res.stdout.startswith("Usage: kmswatch " + argv[0]), res
    assert res.stderr == ""


def test_main_help_names_every_command(kmswatch):
    out = kmswatch("--help").stdout
    for c in COMMANDS:
        assert re.search(r"^  %s\s" % c, out, re.M), c


def test_no_command_exits_2(kmswatch):
    res = kmswatch()
    assert res.rc == 2, res
    assert "Usage: kmswatch" in res.stderr
    assert res.stdout == ""


def test_unknown_command_exits_2(kmswatch):
    res = kmswatch("frobnicate")
    assert res.rc == 2, res
    assert '"frobnicate"' in res.stderr
    assert res.stdout == ""


def test_version(kmswatch):
    res = kmswatch("--version")
    assert res.rc == 0
    assert re.fullmatch(r"kmswatch \d+\.\d+\.\d+\n", res.stdout), res


BAD_OPTIONS = [
    ("stats", ["--by", "region"]),
    ("stats", ["--top", "0"]),
    ("stats", ["--top", "3x"]),
    ("stats", ["--from", "yesterday"]),
    ("stats", ["--to", "2026-13-01T00:00:00Z"]),
    ("stats", ["extra"]),
    ("stats", ["--bogus"]),
    ("lookup", []),
    ("lookup", ["--bogus", "X"]),
    ("codes", ["extra"]),
    ("serve", ["extra"]),
    ("serve", ["--log-level", "loud"]),
    ("serve", ["--listen", "127.0.0.1:notaport"]),
]


@pytest.mark.parametrize("cmd,args", BAD_OPTIONS,
                         ids=["%s %s" % (c, " ".join(a))
                              for c, a in BAD_OPTIONS])
def test_bad_options_exit_2(kmswatch, tmp, cmd, args):
    res = kmswatch(cmd, "--db", tmp / "none.db", *args) \
        if cmd not in ("codes",) else kmswatch(cmd, *args)
    assert res.rc == 2, res
    assert res.stdout == ""
    assert res.stderr != ""


# ---------------------------------------------------------------------------
# codes: the catalog must restate the reference, row for row.

def _md_key(r):
    return (r["status"], r["code"], r["category"])


def test_codes_text_lists_every_catalog_row(kmswatch, catalog_md):
    res = kmswatch("codes")
    assert res.rc == 0, res
    rows = []
    for line in res.stdout.splitlines():
        status, code, category = line.split()[:3]
        rows.append((int(status), code, category))
    assert sorted(rows) == sorted(_md_key(r) for r in catalog_md)


def test_codes_json_with_extra_argument_exits_2(kmswatch):
    res = kmswatch("codes", "--json", "extra")
    assert res.rc == 2, res


def test_codes_json(kmswatch, catalog_md):
    res = kmswatch("codes", "--json")
    assert res.rc == 0, res
    doc = res.json()
    assert set(doc) == {"codes"}
    keys = {"status", "code", "message", "meaning", "action", "category",
            "documented"}
    for c in doc["codes"]:
        assert set(c) == keys, c
        assert isinstance(c["status"], int)
        assert isinstance(c["documented"], bool)
        for k in ("code", "message", "meaning", "action", "category"):
            assert isinstance(c[k], str), (k, c)
        assert c["meaning"] and c["action"], c
    got = sorted((c["status"], c["code"], c["message"], c["category"],
                  c["documented"]) for c in doc["codes"])
    want = sorted((r["status"], r["code"], r["template"], r["category"],
                   r["documented"]) for r in catalog_md)
    assert got == want


# ---------------------------------------------------------------------------
# stats against the truth.

def truth_key(by, catalog):
    if by == "code":
        return lambda t: t["code"]
    if by == "status":
        return lambda t: t["status"]
    if by == "api":
        return lambda t: t["api"]
    return lambda t: expected_category(catalog, t["code"], t["message"])


def in_window(records, lo, hi):
    return [t for t in records if lo <= t["time_ms"] < hi]


def check_groups(doc, expected, top=None):
    """A stats answer against {key: count}: total, counts, order, share."""
    total = sum(expected.values())
    assert doc["total"] == total
    groups = doc["groups"]
    counts = [g["count"] for g in groups]
    assert counts == sorted(counts, reverse=True), "not largest first"
    if top is None:
        assert {g["key"]: g["count"] for g in groups} == expected
        assert len(groups) == len(expected)
        assert abs(sum(g["share"] for g in groups) - 1) <= \
            0.00005 * len(groups) + 1e-9
    else:
        assert len(groups) == min(top, len(expected))
        assert counts == sorted(expected.values(), reverse=True)[:top]
        for g in groups:
            assert expected[g["key"]] == g["count"]
    for g in groups:
        assert abs(g["share"] - g["count"] / total) <= 0.00005 + 1e-9, g


@pytest.mark.parametrize("by", ["code", "status", "api", "category"])
def test_stats_json_all_time(kmswatch, ingested, catalog_md, by):
    res = kmswatch("stats", "--db", ingested.db, "--json", "--by", by)
    assert res.rc == 0, res
    doc = res.json()
    assert set(doc) == {"total", "groups"}
    expected = count_by(ingested.records, truth_key(by, catalog_md))
    check_groups(doc, expected)


def test_stats_default_is_by_code(kmswatch, ingested):
    a = kmswatch("stats", "--db", ingested.db, "--json").json()
    b = kmswatch("stats", "--db", ingested.db, "--json", "--by",
                 "code").json()
    assert a == b


def _parse_text(out):
    lines = out.splitlines()
    assert lines[0].split() == ["key", "count", "share"]
    assert lines[-1].split()[0] == "total"
    groups = []
    for line in lines[1:-1]:
        m = re.fullmatch(r"(\S+)\s+(\d+)\s+(\d+\.\d\d)%", line)
        assert m, line
        groups.append((m.group(1), int(m.group(2)), float(m.group(3))))
    return groups, int(lines[-1].split()[1])


@pytest.mark.parametrize("by", ["code", "api"])
def test_stats_text(kmswatch, ingested, catalog_md, by):
    res = kmswatch("stats", "--db", ingested.db, "--by", by)
    assert res.rc == 0, res
    groups, total = _parse_text(res.stdout)
    expected = {("(unknown)" if k is None else k): v for k, v in
                count_by(ingested.records, truth_key(by, catalog_md)).items()}
    assert total == len(ingested.records)
    assert {k: c for k, c, _ in groups} == expected
    for _, c, share in groups:
        assert abs(share - 100.0 * c / total) <= 0.005 + 1e-9


def test_stats_text_top(kmswatch, ingested):
    top = 3
    groups, total = _parse_text(kmswatch("stats", "--db", ingested.db,
                                         "--top", top).stdout)
    expected = count_by(ingested.records, lambda t: t["code"])
    assert len(groups) == top
    assert [c for _, c, _ in groups] == sorted(expected.values(),
                                               reverse=True)[:top]
    assert total == len(ingested.records)


@pytest.mark.parametrize("by", ["code", "status"])
@pytest.mark.parametrize("top", [1, 4])
def test_stats_json_top(kmswatch, ingested, catalog_md, by, top):
    doc = kmswatch("stats", "--db", ingested.db, "--json", "--by", by,
                   "--top", top).json()
    check_groups(doc, count_by(ingested.records, truth_key(by, catalog_md)),
                 top=top)


TIME_FORMS = {
    "rfc3339": rfc3339_s,
    "unix": lambda ms: str(ms // 1000),
    "no_zone_is_utc": lambda ms: rfc3339_s(ms)[:-1],
    "space_separator": lambda ms: rfc3339_s(ms).replace("T", " "),
    "fraction": lambda ms: rfc3339_s(ms)[:-1] + ".000Z",
    "offset": lambda ms: rfc3339_s(ms + 5400000)[:-1] + "+01:30",
    "negative_offset": lambda ms: rfc3339_s(ms - 7200000)[:-1] + "-02:00",
}


@pytest.mark.parametrize("form", sorted(TIME_FORMS))
def test_stats_from_to_widened_to_minutes(kmswatch, ingested, form):
    lo, hi = ingested.window(0.25, 0.6)
    fmt = TIME_FORMS[form]
    doc = kmswatch("stats", "--db", ingested.db, "--json", "--from",
                   fmt(lo), "--to", fmt(hi)).json()
    widened = in_window(ingested.records, floor_to(lo, MINUTE_MS),
                        ceil_to(hi, MINUTE_MS))
    strict = in_window(ingested.records, lo, hi)
    # The window was chosen so that the widening counts more.
    assert len(widened) > len(strict)
    check_groups(doc, count_by(widened, lambda t: t["code"]))


def test_stats_from_only_and_to_only(kmswatch, ingested):
    lo, hi = ingested.window(0.25, 0.6)
    doc = kmswatch("stats", "--db", ingested.db, "--json", "--from",
                   rfc3339_s(lo)).json()
    assert doc["total"] == len(in_window(
        ingested.records, floor_to(lo, MINUTE_MS), 2 ** 62))
    doc = kmswatch("stats", "--db", ingested.db, "--json", "--to",
                   rfc3339_s(hi)).json()
    assert doc["total"] == len(in_window(ingested.records, 0,
                                         ceil_to(hi, MINUTE_MS)))


def test_stats_empty_window(kmswatch, ingested):
    first = min(t["time_ms"] for t in ingested.records)
    lo = floor_to(first, MINUTE_MS) - 10 * MINUTE_MS
    doc = kmswatch("stats", "--db", ingested.db, "--json", "--from",
                   rfc3339_s(lo), "--to",
                   rfc3339_s(lo + 5 * MINUTE_MS)).json()
    assert doc == {"total": 0, "groups": []}


def test_stats_on_a_missing_database_fails(kmswatch, tmp):
    res = kmswatch("stats", "--db", tmp / "nothing-here.db")
    assert res.rc == 3, res
    assert "nothing-here.db" in res.stderr


# ---------------------------------------------------------------------------
# lookup.

def test_lookup_text(kmswatch, ingested):
    t = ingested.http.errors[len(ingested.http.errors) // 3]
    res = kmswatch("lookup", "--db", ingested.db, t["request_id"])
    assert res.rc == 0, res
    lines = res.stdout.splitlines()
    assert lines[0] == t["request_id"]
    fields = dict(re.match(r"\s+(\w+):\s+(.*)", l).groups()
                  for l in lines[1:])
    assert fields["status"] == str(t["status"])
    assert fields["code"].startswith(t["code"] + " (")
    assert fields["message"] == t["message"]
    assert fields["api"] == t["api"]


def test_lookup_absent_id_exits_1(kmswatch, ingested):
    res = kmswatch("lookup", "--db", ingested.db, "NO-SUCH-REQUEST-ID")
    assert res.rc == 1, res
    assert "NO-SUCH-REQUEST-ID" in res.stderr
    assert "not found" in res.stderr
    assert res.stdout == ""


def test_lookup_mixed_ids_exits_1_and_shows_the_found(kmswatch, ingested):
    present = [ingested.http.errors[0]["request_id"],
               ingested.pb.errors[-1]["request_id"]]
    rc, found = lookup_records(ingested.db,
                               [present[0], "NO-SUCH-ID", present[1]])
    assert rc == 1
    assert set(found) == set(present)


def test_lookup_is_exact(kmswatch, ingested):
    rid = ingested.http.errors[0]["request_id"]
    for variant in (rid.lower(), rid[:-1], rid + "0", " " + rid):
        res = kmswatch("lookup", "--db", ingested.db, variant)
        assert res.rc == 1, (variant, res)
