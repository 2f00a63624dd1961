"""test_ingest.py - `kmswatch ingest`, end to end, against gen.py's truth.

Covers: the summary (text and --json shape) of ingesting the generated HTTP
and pb captures; that every truth record comes back from `lookup --json`
with its code, status, message, API, time, source and catalog category
(a sample of the large captures, every record of the small ones); the
flags.body_status rule (null when the body's StatusCode is absent or
equals the HTTP status); re-ingest (all duplicates, stats unchanged);
rejects with their byte offsets and reason names (corrupted pb frames,
truncated final frames, garbage in HTTP dumps); --strict; exit statuses
for usage errors (2) and unreadable or undetectable files (3); standard
input ("-"); and --format overriding detection.
"""

import random
import sqlite3

import pytest

from conftest import (encode_error, expected_category, http_exchange,
                      lookup_records, parse_rfc3339_ms, pb_fields,
                      pb_frames, run_kmswatch, varint)

SUMMARY_KEYS = {"accepted", "duplicates", "rejected", "responses", "rejects"}
REJECT_KEYS = {"source", "offset", "reason"}
SAMPLE_SIZE = 50


def check_summary_shape(s):
    assert set(s) == SUMMARY_KEYS, s
    for k in SUMMARY_KEYS - {"rejects"}:
        assert isinstance(s[k], int) and s[k] >= 0, (k, s)
    assert isinstance(s["rejects"], list)
    for r in s["rejects"]:
        assert set(r) == REJECT_KEYS, r
        assert isinstance(r["source"], str)
        assert isinstance(r["offset"], int)
        assert isinstance(r["reason"], str)


def reason_name(reject):
    """The stable name before the detail: "truncated: input ends..."."""
    return reject["reason"].split(":", 1)[0]


def ingest_json(kmswatch, db, *args, input=None):
    res = kmswatch("ingest", "--db", db, "--json", *args, input=input)
    summary = res.json() if res.stdout.strip() else None
    if summary is not None:
        check_summary_shape(summary)
    return res, summary


def check_record(rec, truth, catalog, source, time_ms=None):
    """One record of `lookup --json` against its truth line."""
    assert rec["request_id"] == truth["request_id"]
    assert rec["code"] == truth["code"], rec
    assert rec["status"] == truth["status"], rec
    assert rec["message"] == truth["message"], rec
    assert rec["api"] == truth["api"], rec
    assert rec["source"] == str(source), rec
    want_time = truth["time_ms"] if time_ms is None else time_ms
    assert parse_rfc3339_ms(rec["time"]) == want_time, (rec, truth)
    assert rec["category"] == expected_category(catalog, truth["code"],
                                                truth["message"]), rec
    assert rec["known"] == any(r["code"] == truth["code"] for r in catalog)
    # The body's StatusCode is absent (0) or equals the HTTP status in
    # everything gen.py writes, so no record may carry a body_status.
    assert truth["body_status"] in (0, truth["status"])
    assert rec["flags"]["body_status"] is None, rec


# ---------------------------------------------------------------------------
# The large captures, ingested once for the session.

def test_summary_counts_every_record_and_response(ingested):
    s = ingested.summary
    check_summary_shape(s)
    assert s["accepted"] == len(ingested.records)
    assert s["duplicates"] == 0
    assert s["rejected"] == 0 and s["rejects"] == []
    assert s["responses"] == len(ingested.oks)


def test_pb_records_get_one_ingest_time(ingested, kmswatch):
    ids = [t["request_id"] for t in ingested.pb.errors[::37]]
    rc, found = lookup_records(ingested.db, ids)
    assert rc == 0
    times = {parse_rfc3339_ms(r["time"]) for r in found.values()}
    assert times == {ingested.pb_time_ms}
    assert ingested.before_ms <= ingested.pb_time_ms <= ingested.after_ms


@pytest.mark.parametrize("which", ["http", "pb"])
def test_lookup_matches_truth_for_a_sample(ingested, catalog_md, which):
    cap = getattr(ingested, which)
    sample = random.Random(which).sample(cap.errors,
                                         min(SAMPLE_SIZE, len(cap.errors)))
    rc, found = lookup_records(ingested.db,
                               [t["request_id"] for t in sample])
    assert rc == 0
    assert set(found) == {t["request_id"] for t in sample}
    for t in sample:
        check_record(found[t["request_id"]], t, catalog_md, cap.path,
                     ingested.pb_time_ms if which == "pb" else None)


def test_small_captures_every_record(kmswatch, tmp, captures, catalog_md):
    db = tmp / "small.db"
    http, pb = captures["small_http"], captures["small_pb"]
    res, s = ingest_json(kmswatch, db, http.path, pb.path)
    assert res.rc == 0, res
    assert s["accepted"] == len(http.errors) + len(pb.errors)
    assert s["responses"] == len(http.oks)
    rc, found = lookup_records(db, [t["request_id"]
                                    for t in http.errors + pb.errors])
    assert rc == 0
    pb_times = set()
    for t in http.errors:
        check_record(found[t["request_id"]], t, catalog_md, http.path)
    for t in pb.errors:
        rec = found[t["request_id"]]
        pb_times.add(rec["time"])
        check_record(rec, t, catalog_md, pb.path,
                     parse_rfc3339_ms(rec["time"]))
    assert len(pb_times) == 1


def test_small_captures_offsets(kmswatch, tmp, captures):
    """A pb record's offset is its frame's; an HTTP record's is that of
    the response carrying it."""
    db = tmp / "off.db"
    http, pb = captures["small_http"], captures["small_pb"]
    assert kmswatch("ingest", "--db", db, http.path, pb.path).rc == 0
    _, found = lookup_records(db, [t["request_id"]
                                   for t in http.errors + pb.errors])
    frames = pb_frames(pb.data())
    assert [found[t["request_id"]]["offset"] for t in pb.errors] == \
        [start for start, _, _ in frames]
    data = http.data()
    responses = [data.index(b"HTTP/1.1 ", at)
                 for at in _request_starts(data)]
    assert [found[t["request_id"]]["offset"] for t in http.errors] == \
        [responses[i] for i in _error_request_indices(http)]


@pytest.mark.parametrize("stdin", [False, True], ids=["file", "stdin"])
def test_source_option_names_the_records(kmswatch, tmp, captures, stdin):
    cap = captures["small_pb"]
    args = ["-"] if stdin else [cap.path]
    res = kmswatch("ingest", "--db", tmp / "src.db", "--source",
                   "proxy-eu-1", *args,
                   input=cap.data() if stdin else None)
    assert res.rc == 0, res
    _, found = lookup_records(tmp / "src.db",
                              [t["request_id"] for t in cap.errors])
    assert {r["source"] for r in found.values()} == {"proxy-eu-1"}


def test_text_summary(kmswatch, tmp, captures):
    http, pb = captures["small_http"], captures["small_pb"]
    res = kmswatch("ingest", "--db", tmp / "t.db", http.path, pb.path)
    assert res.rc == 0, res
    assert res.stdout.splitlines()[0] == (
        "ingest: files=2 accepted=%d duplicates=0 rejected=0 responses=%d"
        % (len(http.errors) + len(pb.errors), len(http.oks)))


# ---------------------------------------------------------------------------
# flags.body_status: null when the body's StatusCode is absent or equals
# the HTTP status, else the body's value.

BODY_STATUS_CASES = [
    # request id, HTTP status, body StatusCode (0: absent), body_status
    ("BS-ABSENT", 409, 0, None),
    ("BS-EQUAL", 409, 409, None),
    ("BS-DIFFERS", 409, 400, 400),
    ("BS-DIFFERS-5XX", 503, 500, 500),
]


@pytest.fixture(scope="module")
def body_status_db(tmp_path_factory):
    d = tmp_path_factory.mktemp("body_status")
    cap = b"".join(http_exchange(
        "Decrypt", status, encode_error(
            body, "Rejected.Disabled",
            "The request was rejected because the key state is Disabled.",
            rid))
        for rid, status, body, _ in BODY_STATUS_CASES)
    (d / "c.http").write_bytes(cap)
    res = run_kmswatch("ingest", "--db", d / "c.db", "--json", d / "c.http")
    assert res.rc == 0 and res.json()["accepted"] == len(BODY_STATUS_CASES)
    return d / "c.db"


@pytest.mark.parametrize("rid,status,body,want", BODY_STATUS_CASES,
                         ids=[c[0] for c in BODY_STATUS_CASES])
def test_body_status_flag(body_status_db, rid, status, body, want):
    rc, found = lookup_records(body_status_db, [rid])
    assert rc == 0
    assert found[rid]["status"] == status
    assert found[rid]["flags"]["body_status"] == want


# ---------------------------------------------------------------------------
# Re-ingest.

def test_reingest_stores_nothing_new(kmswatch, tmp, captures):
    db = tmp / "re.db"
    http, pb = captures["http"], captures["pb"]
    n = len(http.errors) + len(pb.errors)
    res, first = ingest_json(kmswatch, db, http.path, pb.path)
    assert res.rc == 0 and first["accepted"] == n

    def all_stats():
        return {by: kmswatch("stats", "--db", db, "--json", "--by",
                             by).json() for by in
                ("code", "status", "api", "category")}

    before = all_stats()
    assert before["code"]["total"] == n
    res, again = ingest_json(kmswatch, db, http.path, pb.path)
    assert res.rc == 0, res
    assert again["accepted"] == 0
    assert again["duplicates"] == n
    assert again["rejected"] == 0
    assert all_stats() == before


def stored_counts(db):
    """(2xx responses, rejects) as stored, read from the database file."""
    con = sqlite3.connect(str(db))
    try:
        responses = con.execute(
            "SELECT coalesce(sum(count), 0) FROM responses_minute"
        ).fetchone()[0]
        rejects = con.execute("SELECT count(*) FROM rejects").fetchone()[0]
    finally:
        con.close()
    return responses, rejects


def test_reingest_counts_responses_and_rejects_once(kmswatch, tmp, captures):
    """2xx responses have no RequestId to dedupe them: the recorded read
    position must keep a second read from counting them again."""
    http = captures["http"]
    spoiled = tmp / "spoiled.http"
    spoiled.write_bytes(http.data() + b"garbage that is no HTTP\r\n")
    db = tmp / "once.db"
    res, first = ingest_json(kmswatch, db, spoiled)
    assert res.rc == 0 and first["rejected"] == 1
    assert stored_counts(db) == (len(http.oks), 1)
    res, again = ingest_json(kmswatch, db, spoiled)
    assert res.rc == 0
    assert again["rejected"] == 1           # still found and reported ...
    assert stored_counts(db) == (len(http.oks), 1)   # ... not stored twice


def test_grown_file_counts_only_the_new_part(kmswatch, tmp, captures):
    """A capture that grew since it was read: the new records and
    responses are added, the old ones are not counted twice."""
    first, second = captures["http"], captures["small_http"]
    grown = tmp / "grown.http"
    grown.write_bytes(first.data())
    db = tmp / "grown.db"
    res, one = ingest_json(kmswatch, db, grown)
    assert res.rc == 0 and one["accepted"] == len(first.errors)
    grown.write_bytes(first.data() + second.data())
    res, two = ingest_json(kmswatch, db, grown)
    assert res.rc == 0
    assert two["accepted"] == len(second.errors)
    assert two["duplicates"] == len(first.errors)
    assert stored_counts(db)[0] == len(first.oks) + len(second.oks)


def test_replaced_file_is_read_from_its_start(kmswatch, tmp, captures):
    """Another capture written under the same name is a new input."""
    first, second = captures["small_http"], captures["http"]
    path = tmp / "same-name.http"
    db = tmp / "replaced.db"
    path.write_bytes(second.data())
    assert ingest_json(kmswatch, db, path)[0].rc == 0
    path.write_bytes(first.data())
    res, two = ingest_json(kmswatch, db, path)
    assert res.rc == 0 and two["accepted"] == len(first.errors)
    assert stored_counts(db)[0] == len(first.oks) + len(second.oks)


def test_duplicate_within_one_file(kmswatch, tmp):
    msg = "The request was rejected because the key state is Disabled."
    frame = encode_error(409, "Rejected.Disabled", msg, "DUP-1")
    other = encode_error(409, "Rejected.Disabled", msg, "DUP-2")
    data = (varint(len(frame)) + frame) * 3 + varint(len(other)) + other
    (tmp / "d.pb").write_bytes(data)
    res, s = ingest_json(kmswatch, tmp / "d.db", tmp / "d.pb")
    assert res.rc == 0, res
    assert (s["accepted"], s["duplicates"]) == (2, 2)
    rc, found = lookup_records(tmp / "d.db", ["DUP-1", "DUP-2"])
    assert rc == 0
    # The first copy is the one kept.
    assert found["DUP-1"]["offset"] == 0


# ---------------------------------------------------------------------------
# Rejects in pb: one message of the stream is spoiled, keeping every frame
# length, so that exactly that message is rejected and the rest stored.

def _field(msg, tag):
    return next(f for f in pb_fields(msg) if f[1] == tag)


def spoil_utf8(msg):
    """A byte of ErrorMessage becomes 0xFF: reported at that byte."""
    _, _, val, _ = _field(msg, 0x1A)
    msg[val + 3] = 0xFF
    return val + 3, "bad_utf8"


def spoil_nul(msg):
    """A NUL inside RequestId: refused as bad UTF-8, at the NUL."""
    _, _, val, _ = _field(msg, 0x22)
    msg[val + 5] = 0x00
    return val + 5, "bad_utf8"


def spoil_string_wire_type(msg):
    """ErrorMessage's tag says varint: reported at the tag."""
    at, _, _, _ = _field(msg, 0x1A)
    msg[at] = 0x18
    return at, "wire_type"


def spoil_status_wire_type(msg):
    """StatusCode's tag says fixed32: reported at the tag."""
    at, _, _, _ = _field(msg, 0x08)
    msg[at] = 0x0D
    return at, "wire_type"


def spoil_group(msg):
    """ErrorMessage's tag says group start: a bad field, at the tag."""
    at, _, _, _ = _field(msg, 0x1A)
    msg[at] = 0x1B
    return at, "bad_field"


def spoil_no_code(msg):
    """ErrorCode's tag becomes field 5: the message decodes but has no
    ErrorCode, a fault of the whole message, reported at its frame."""
    at, _, _, _ = _field(msg, 0x12)
    msg[at] = 0x2A
    return None, "no_code"


SPOILERS = [spoil_utf8, spoil_nul, spoil_string_wire_type,
            spoil_status_wire_type, spoil_group, spoil_no_code]


@pytest.mark.parametrize("spoil", SPOILERS, ids=[s.__name__[6:]
                                                 for s in SPOILERS])
def test_pb_corrupted_frame(kmswatch, tmp, captures, spoil):
    cap = captures["small_pb"]
    data = cap.data()
    frames = pb_frames(data)
    assert len(frames) == len(cap.errors)
    k = len(frames) // 2
    start, body, n = frames[k]
    msg = bytearray(data[body:body + n])
    at, reason = spoil(msg)
    want_offset = start if at is None else body + at
    bad = tmp / "bad.pb"
    bad.write_bytes(data[:body] + bytes(msg) + data[body + n:])

    res, s = ingest_json(kmswatch, tmp / "bad.db", bad)
    assert res.rc == 0, res
    assert s["rejected"] == 1
    assert len(s["rejects"]) == 1
    rej = s["rejects"][0]
    assert (rej["source"], rej["offset"], reason_name(rej)) == (
        str(bad), want_offset, reason), rej
    assert s["accepted"] == len(cap.errors) - 1

    good = [t["request_id"] for i, t in enumerate(cap.errors) if i != k]
    rc, found = lookup_records(tmp / "bad.db", good)
    assert rc == 0 and set(found) == set(good)
    rc, found = lookup_records(tmp / "bad.db", [cap.errors[k]["request_id"]])
    assert rc == 1 and found == {}


def test_pb_truncated_final_frame(kmswatch, tmp, captures):
    cap = captures["small_pb"]
    data = cap.data()
    start, body, n = pb_frames(data)[-1]
    cut = tmp / "cut.pb"
    cut.write_bytes(data[:body + n // 2])
    res, s = ingest_json(kmswatch, tmp / "cut.db", cut)
    assert res.rc == 0, res
    assert s["rejected"] == 1
    rej = s["rejects"][0]
    assert (rej["offset"], reason_name(rej)) == (start, "truncated"), rej
    assert s["accepted"] == len(cap.errors) - 1
    rc, _ = lookup_records(tmp / "cut.db",
                           [t["request_id"] for t in cap.errors[:-1]])
    assert rc == 0


def test_pb_cut_inside_a_length_prefix(kmswatch, tmp, captures):
    """A stream that ends inside a two-byte length prefix."""
    cap = captures["pb"]
    data = cap.data()
    frames = pb_frames(data)
    k = next(i for i, (s, b, _) in enumerate(frames) if b - s >= 2 and i)
    start = frames[k][0]
    cut = tmp / "cut.pb"
    cut.write_bytes(data[:start + 1])
    res, s = ingest_json(kmswatch, tmp / "cut.db", cut)
    assert res.rc == 0, res
    assert s["rejected"] == 1
    rej = s["rejects"][0]
    assert (rej["offset"], reason_name(rej)) == (start, "truncated"), rej
    assert s["accepted"] == k


# ---------------------------------------------------------------------------
# Rejects in HTTP dumps.

GARBAGE = b"this line is not HTTP\r\nnor is this one\r\n"


def _request_starts(data):
    out, i = [], 0
    while (i := data.find(b"POST / HTTP/1.1\r\n", i)) >= 0:
        out.append(i)
        i += 1
    return out


def _error_request_indices(cap):
    """Indices (in the dump's order) of the exchanges that are errors."""
    return [i for i, t in enumerate(cap.truth) if not t.get("ok")]


@pytest.mark.parametrize("where", ["before_request", "before_response"])
def test_http_garbage_between_messages(kmswatch, tmp, captures, catalog_md,
                                       where):
    cap = captures["small_http"]
    data = cap.data()
    starts = _request_starts(data)
    assert len(starts) == len(cap.truth)
    # Put the garbage at an error exchange in the middle of the dump.
    k = _error_request_indices(cap)[len(cap.errors) // 2]
    at = starts[k]
    if where == "before_response":
        at = data.index(b"HTTP/1.1 ", starts[k])
    spoilt = tmp / "g.http"
    spoilt.write_bytes(data[:at] + GARBAGE + data[at:])

    res, s = ingest_json(kmswatch, tmp / "g.db", spoilt)
    assert res.rc == 0, res
    assert s["rejected"] == 1
    rej = s["rejects"][0]
    assert (rej["offset"], reason_name(rej)) == (at, "bad_http"), rej
    assert s["accepted"] == len(cap.errors)
    assert s["responses"] == len(cap.oks)
    rc, found = lookup_records(tmp / "g.db",
                               [t["request_id"] for t in cap.errors])
    assert rc == 0
    for t in cap.errors:
        check_record(found[t["request_id"]], t, catalog_md, spoilt)


def test_http_truncated_final_message(kmswatch, tmp, captures):
    cap = captures["small_http"]
    data = cap.data()
    last = _request_starts(data)[-1]
    cut = tmp / "cut.http"
    cut.write_bytes(data[:last + 20])
    res, s = ingest_json(kmswatch, tmp / "cut.db", cut)
    assert res.rc == 0, res
    assert s["rejected"] == 1
    rej = s["rejects"][0]
    assert (rej["offset"], reason_name(rej)) == (last, "truncated"), rej
    done = cap.truth[:-1]
    assert s["accepted"] == sum(1 for t in done if not t.get("ok"))
    assert s["responses"] == sum(1 for t in done if t.get("ok"))


# ---------------------------------------------------------------------------
# --strict and exit statuses.

def _truncated_copy(cap, tmp):
    data = cap.data()
    start, body, n = pb_frames(data)[-1]
    p = tmp / "trunc.pb"
    p.write_bytes(data[:body + 1])
    return p


@pytest.mark.parametrize("strict", [False, True])
@pytest.mark.parametrize("with_rejects", [False, True])
def test_strict(kmswatch, tmp, captures, strict, with_rejects):
    cap = captures["small_pb"]
    path = _truncated_copy(cap, tmp) if with_rejects else cap.path
    args = ["--strict"] if strict else []
    res, s = ingest_json(kmswatch, tmp / "s.db", *args, path)
    assert s["rejected"] == (1 if with_rejects else 0)
    assert res.rc == (1 if strict and with_rejects else 0), res
    # --strict changes the exit status only, not what is stored.
    assert s["accepted"] == len(cap.errors) - (1 if with_rejects else 0)


USAGE_ERRORS = [
    ("no_files", []),
    ("bad_format", ["--format", "xml", "{pb}"]),
    ("empty_format", ["--format", "", "{pb}"]),
    ("format_case", ["--format", "PB", "{pb}"]),
    ("unknown_option", ["--bogus", "{pb}"]),
]


@pytest.mark.parametrize("name,args", USAGE_ERRORS,
                         ids=[u[0] for u in USAGE_ERRORS])
def test_usage_errors_exit_2(kmswatch, tmp, captures, name, args):
    db = tmp / "u.db"
    args = [a.replace("{pb}", str(captures["small_pb"].path)) for a in args]
    res = kmswatch("ingest", "--db", db, *args)
    assert res.rc == 2, res
    assert "kmswatch ingest --help" in res.stderr
    assert res.stdout == ""
    assert not db.exists(), "a usage error must not create the database"


def test_missing_file_exits_3_and_ingests_the_others(kmswatch, tmp,
                                                     captures):
    pb, http = captures["small_pb"], captures["small_http"]
    missing = tmp / "no-such-capture.pb"
    res, s = ingest_json(kmswatch, tmp / "m.db", pb.path, missing, http.path)
    assert res.rc == 3, res
    assert str(missing) in res.stderr
    assert s["accepted"] == len(pb.errors) + len(http.errors)
    rc, _ = lookup_records(tmp / "m.db", [t["request_id"]
                                          for t in pb.errors + http.errors])
    assert rc == 0


UNDETECTABLE = [
    ("text", b"hello, this is not a capture\n"),
    ("html", b"<html><body>502 Bad Gateway</body></html>\n"),
    ("lowercase_method", b"post / HTTP/1.1\r\nHost: x\r\n\r\n"),
    # A JSON array is neither HAR (an object with "log") nor JSON Lines.
    ("json_array", b'[{"code": "x"}, {"code": "y"}]\n'),
    ("xml", b'<?xml version="1.0"?><error code="x"/>\n'),
    ("pb_unknown_first_tag",
     varint(6) + b"\x2a\x01x" + b"\x12\x01y"),
]


@pytest.mark.parametrize("name,data", UNDETECTABLE,
                         ids=[u[0] for u in UNDETECTABLE])
def test_undetectable_format_exits_3(kmswatch, tmp, captures, name, data):
    path = tmp / "mystery.bin"
    path.write_bytes(data)
    other = captures["small_pb"]
    res, s = ingest_json(kmswatch, tmp / "x.db", path, other.path)
    assert res.rc == 3, res
    assert str(path) in res.stderr
    assert "format" in res.stderr
    assert s["accepted"] == len(other.errors)
    assert s["rejected"] == 0


def test_format_override_reads_what_detection_cannot(kmswatch, tmp):
    """A valid pb stream whose first field is one Error does not define
    (skipped by decoders) is not detected, but --format pb reads it."""
    msg = (b"\x2a\x03xyz" + encode_error(
        500, "InternalFailure", "Internal Failure.", "OVERRIDE-1"))
    path = tmp / "x.bin"
    path.write_bytes(varint(len(msg)) + msg)
    res, _ = ingest_json(kmswatch, tmp / "a.db", path)
    assert res.rc == 3, res
    res, s = ingest_json(kmswatch, tmp / "b.db", "--format", "pb", path)
    assert res.rc == 0, res
    assert (s["accepted"], s["rejected"]) == (1, 0)
    rc, found = lookup_records(tmp / "b.db", ["OVERRIDE-1"])
    assert rc == 0 and found["OVERRIDE-1"]["code"] == "InternalFailure"


@pytest.mark.parametrize("fmt,which", [("http", "small_pb"),
                                       ("pb", "small_http")])
def test_format_override_is_obeyed(kmswatch, tmp, captures, fmt, which):
    """A capture read as the other format yields rejects, not records:
    the override is not second-guessed by detection."""
    cap = captures[which]
    res, s = ingest_json(kmswatch, tmp / "o.db", "--format", fmt, cap.path)
    assert res.rc == 0, res
    assert s["accepted"] == 0
    assert s["rejected"] >= 1
    res, s = ingest_json(kmswatch, tmp / "p.db", "--format", cap.fmt,
                         cap.path)
    assert s["accepted"] == len(cap.errors)


@pytest.mark.parametrize("which", ["small_http", "small_pb"])
def test_stdin(kmswatch, tmp, captures, catalog_md, which):
    cap = captures[which]
    res, s = ingest_json(kmswatch, tmp / "in.db", "-", input=cap.data())
    assert res.rc == 0, res
    assert s["accepted"] == len(cap.errors)
    assert s["responses"] == len(cap.oks)
    rc, found = lookup_records(tmp / "in.db",
                               [t["request_id"] for t in cap.errors])
    assert rc == 0
    for t in cap.errors:
        rec = found[t["request_id"]]
        check_record(rec, t, catalog_md, "-",
                     parse_rfc3339_ms(rec["time"])
                     if t["time_ms"] is None else None)


def test_empty_file_is_read(kmswatch, tmp):
    path = tmp / "empty.pb"
    path.write_bytes(b"")
    res, s = ingest_json(kmswatch, tmp / "e.db", path)
    assert res.rc == 0, res
    assert (s["accepted"], s["rejected"], s["responses"]) == (0, 0, 0)


def test_large_stdin_is_read_in_chunks(kmswatch, tmp):
    """Standard input is read 4 MiB at a time: the frames cut at each
    chunk's end must carry over to the next one, and a truncated end is a
    reject at the same offset as when the same bytes are a file."""
    frames = [encode_error(409, "Rejected.Disabled", "m" * (i % 300),
                           "STDIN-%07d" % i) for i in range(60000)]
    data = b"".join(varint(len(f)) + f for f in frames)
    assert len(data) > 9 << 20         # crosses two chunk boundaries
    data = data[:-5]                   # the last frame is cut short
    path = tmp / "big.pb"
    path.write_bytes(data)

    res, piped = ingest_json(kmswatch, tmp / "pipe.db", "-", input=data)
    assert res.rc == 0, res
    res, filed = ingest_json(kmswatch, tmp / "file.db", path)
    assert res.rc == 0, res
    assert piped["accepted"] == filed["accepted"] == len(frames) - 1
    assert [r["offset"] for r in piped["rejects"]] == \
        [r["offset"] for r in filed["rejects"]]
    assert reason_name(piped["rejects"][0]) == "truncated"
