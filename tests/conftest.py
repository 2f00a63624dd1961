"""conftest.py - shared fixtures of the black-box tests of build/kmswatch.

This file tests nothing itself.  It gives the test files (test_cli.py,
test_api.py, test_ingest.py):

- the binary (build/kmswatch; run `make` first: a missing binary fails
  every test that needs it, nothing is skipped) and `kmswatch`, a helper
  that runs it and returns (rc, stdout, stderr);
- captures written by tests/gen.py from tests/scenarios/basic.json with
  fixed seeds, each with the truth file gen.py writes beside it: a large
  HTTP dump with 2xx exchanges, a large pb stream, and small ones of each
  for the tests that mutate bytes or check every record;
- `ingested`: a database holding the large HTTP and pb captures, ingested
  once per session, with the truth records in ingest order;
- `daemon`: `kmswatch serve` on a free loopback port over that database,
  with a small HTTP client; on teardown it must stop on SIGTERM with exit
  status 0 and log a "stopping" line;
- the catalog of /work/shared/reference/error-codes.md, parsed, so that
  expectations about codes and categories come from the reference and not
  from the program under test.

Every expected number in the tests comes from a truth file, from the
generator's inputs, or from the reference catalog.
"""

import datetime
import json
import math
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
# KMSWATCH_BIN runs the tests against another build (make test-asan).
BINARY = Path(os.environ.get("KMSWATCH_BIN") or REPO / "build" / "kmswatch")
GEN = REPO / "tests" / "gen.py"
SCENARIO = REPO / "tests" / "scenarios" / "basic.json"

# The reference catalog lives outside the repository; an environment
# variable can point elsewhere.
CATALOG_MD_CANDIDATES = [
    os.environ.get("KMSWATCH_ERROR_CODES_MD", ""),
    str(REPO.parent / "shared" / "reference" / "error-codes.md"),
    "/work/shared/reference/error-codes.md",
]

# Seeds and sizes of the generated captures.  The large ones use the
# scenario's own start, duration and rates.
SEED_HTTP = 11
SEED_PB = 12
SEED_SMALL_HTTP = 4
SEED_SMALL_PB = 3
COUNT_SMALL_HTTP = 12
COUNT_SMALL_PB = 10

CLI_TIMEOUT_S = 60
DAEMON_START_TIMEOUT_S = 10
DAEMON_STOP_TIMEOUT_S = 5
MINUTE_MS = 60000


# ---------------------------------------------------------------------------
# Small helpers the test files import.

def parse_rfc3339_ms(s):
    """'2026-12-03T09:00:00.000Z' (as render.c writes it) -> ms."""
    m = re.fullmatch(r"(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)\.(\d{3})Z",
                     s)
    assert m, "not an RFC 3339 UTC time with milliseconds: %r" % (s,)
    y, mo, d, h, mi, sec, ms = (int(g) for g in m.groups())
    dt = datetime.datetime(y, mo, d, h, mi, sec,
                           tzinfo=datetime.timezone.utc)
    return int(dt.timestamp()) * 1000 + ms


def rfc3339(ms):
    """ms -> '2026-12-03T09:00:00.000Z', the form the program prints."""
    dt = datetime.datetime.fromtimestamp(ms // 1000, datetime.timezone.utc)
    return dt.strftime("%Y-%m-%dT%H:%M:%S") + ".%03dZ" % (ms % 1000)


def rfc3339_s(ms):
    """ms (a whole second) -> '2026-12-03T09:00:00Z', for arguments."""
    assert ms % 1000 == 0
    dt = datetime.datetime.fromtimestamp(ms // 1000, datetime.timezone.utc)
    return dt.strftime("%Y-%m-%dT%H:%M:%SZ")


def floor_to(ms, unit):
    return ms - ms % unit


def ceil_to(ms, unit):
    return floor_to(ms + unit - 1, unit)


def count_by(records, key):
    out = {}
    for r in records:
        k = key(r)
        out[k] = out.get(k, 0) + 1
    return out


def varint(n):
    out = bytearray()
    while n > 0x7F:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def read_varint(buf, i):
    """(value, index after) of the varint at buf[i]."""
    n = shift = 0
    while True:
        b = buf[i]
        i += 1
        n |= (b & 0x7F) << shift
        if b < 0x80:
            return n, i
        shift += 7


def pb_frames(data):
    """[(frame start, body start, body length)] of a delimited pb stream."""
    out, i = [], 0
    while i < len(data):
        n, body = read_varint(data, i)
        out.append((i, body, n))
        i = body + n
    assert i == len(data), "generated pb stream does not end on a frame"
    return out


def pb_fields(msg):
    """[(tag offset, tag, value offset, value length)] of one message;
    value length is None for varints."""
    out, i = [], 0
    while i < len(msg):
        at = i
        tag, i = read_varint(msg, i)
        if tag & 7 == 0:
            _, j = read_varint(msg, i)
            out.append((at, tag, i, None))
            i = j
        else:
            assert tag & 7 == 2, "generator wrote wire type %d" % (tag & 7)
            n, j = read_varint(msg, i)
            out.append((at, tag, j, n))
            i = j + n
    return out


def encode_error(status, code, message, request_id):
    """api.Error as proto3 encodes it: defaults left out."""
    def text(tag, s):
        b = s.encode()
        return bytes((tag,)) + varint(len(b)) + b if b else b""
    head = b"\x08" + varint(status) if status else b""
    return (head + text(0x12, code) + text(0x1a, message)
            + text(0x22, request_id))


def masked(message):
    """message as the API shows it: the quoted value after
    `AccessKey ID "` masked, first and last characters kept."""
    m = re.search(r'AccessKey ID "([^"]*)"', message)
    if not m:
        return message
    v = m.group(1)
    hidden = "*" * len(v) if len(v) < 3 else v[0] + "*" * (len(v) - 2) + v[-1]
    return message[:m.start(1)] + hidden + message[m.end(1):]


def http_exchange(api, status, body, date="Thu, 03 Dec 2026 09:00:00 GMT",
                  ctype="application/x-protobuf"):
    """One request naming api, then its response carrying body."""
    req = ("POST / HTTP/1.1\r\nHost: kst.cryptoservice.kms.aliyuncs.com\r\n"
           "x-kms-apiname: %s\r\ncontent-length: 0\r\n\r\n" % api).encode()
    resp = ("HTTP/1.1 %d Whatever\r\nDate: %s\r\nContent-Type: %s\r\n"
            "Content-Length: %d\r\n\r\n" % (status, date, ctype, len(body))
            ).encode()
    return req + resp + body


# ---------------------------------------------------------------------------
# Running the binary.

class Result:
    """What one run of kmswatch did."""

    def __init__(self, rc, stdout, stderr):
        self.rc, self.stdout, self.stderr = rc, stdout, stderr

    def __iter__(self):
        return iter((self.rc, self.stdout, self.stderr))

    def json(self):
        try:
            return json.loads(self.stdout)
        except ValueError as e:
            raise AssertionError("stdout is not JSON (%s): %r"
                                 % (e, self.stdout[:500]))

    def __repr__(self):
        return "Result(rc=%r, stdout=%r, stderr=%r)" % (
            self.rc, self.stdout[:300], self.stderr[:300])


def run_kmswatch(*args, input=None, cwd=None):
    """Runs build/kmswatch with args; returns a Result (rc, stdout, stderr).
    input may be bytes, fed to standard input."""
    if not BINARY.is_file():
        pytest.fail("%s is missing: run `make` first" % BINARY,
                    pytrace=False)
    p = subprocess.run([str(BINARY)] + [str(a) for a in args], input=input,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       cwd=cwd, timeout=CLI_TIMEOUT_S)
    return Result(p.returncode, p.stdout.decode("utf-8", "replace"),
                  p.stderr.decode("utf-8", "replace"))


@pytest.fixture(scope="session")
def binary():
    """The path of build/kmswatch; fails (never skips) when it is absent."""
    if not BINARY.is_file() or not os.access(BINARY, os.X_OK):
        pytest.fail("%s is missing or not executable: run `make` first"
                    % BINARY, pytrace=False)
    return BINARY


@pytest.fixture(scope="session")
def kmswatch(binary):
    """run(*args, input=None) -> Result(rc, stdout, stderr)."""
    return run_kmswatch


@pytest.fixture
def tmp(tmp_path):
    """A fresh directory for one test."""
    return tmp_path


# ---------------------------------------------------------------------------
# Captures and their truth.

class Capture:
    """A generated capture and the truth gen.py wrote for it."""

    def __init__(self, path, fmt, truth_path):
        self.path = path
        self.fmt = fmt
        with open(truth_path, encoding="utf-8") as f:
            self.truth = [json.loads(line) for line in f]
        self.errors = [t for t in self.truth if not t.get("ok")]
        self.oks = [t for t in self.truth if t.get("ok")]
        assert self.errors, "%s: the generator wrote no error records" % path

    def data(self):
        return self.path.read_bytes()


def generate(out_dir, name, fmt, seed, count=None, with_ok=False):
    path = out_dir / (name + "." + fmt)
    truth = out_dir / (name + ".truth")
    cmd = [sys.executable, str(GEN), "--scenario", str(SCENARIO),
           "--format", fmt, "--out", str(path), "--truth", str(truth),
           "--seed", str(seed)]
    if count is not None:
        cmd += ["--count", str(count)]
    if with_ok:
        cmd.append("--with-ok")
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=60)
    assert p.returncode == 0, "gen.py failed: %s" % p.stderr.decode()
    return Capture(path, fmt, truth)


@pytest.fixture(scope="session")
def scenario():
    with open(SCENARIO, encoding="utf-8") as f:
        return json.load(f)


@pytest.fixture(scope="session")
def captures(tmp_path_factory):
    """{"http", "pb", "small_http", "small_pb"} -> Capture."""
    d = tmp_path_factory.mktemp("captures")
    return {
        "http": generate(d, "big", "http", SEED_HTTP, with_ok=True),
        "pb": generate(d, "big", "pb", SEED_PB),
        "small_http": generate(d, "small", "http", SEED_SMALL_HTTP,
                               count=COUNT_SMALL_HTTP, with_ok=True),
        "small_pb": generate(d, "small", "pb", SEED_SMALL_PB,
                             count=COUNT_SMALL_PB),
    }


def lookup_records(db, ids):
    """{request_id: record JSON} for ids, through `lookup --json`; the
    exit status is 0 only when every id was found."""
    res = run_kmswatch("lookup", "--db", db, "--json", *ids)
    assert res.rc in (0, 1), res
    return res.rc, {r["request_id"]: r for r in res.json()["records"]}


class Ingested:
    """A database holding the large captures, and what went into it."""

    def __init__(self, db, summary, http, pb, before_ms, after_ms):
        self.db = db
        self.summary = summary
        self.http = http
        self.pb = pb
        self.before_ms = before_ms
        self.after_ms = after_ms
        self.pb_time_ms = None
        # Error truth in the order it was stored: the http file, then pb.
        self.records = [dict(t) for t in http.errors + pb.errors]
        self.oks = list(http.oks)

    def window(self, lo_frac, hi_frac):
        """A [from, to) in ms inside the HTTP capture whose ends each fall
        one second after a record (never in a minute's last second), so
        that widening the range to whole minutes takes in more records."""
        times = sorted(t["time_ms"] for t in self.http.errors)
        span = times[-1] - times[0]

        def after_record(frac):
            return next(x for x in times if x >= times[0] + span * frac
                        and x % MINUTE_MS < MINUTE_MS - 1000) + 1000

        return after_record(lo_frac), after_record(hi_frac)


@pytest.fixture(scope="session")
def ingested(tmp_path_factory, captures, binary):
    """The large http and pb captures ingested, in that order, in one
    command.  pb records carry no time, so they get the ingest time: it is
    read back from one of them, checked to lie in the run's bracket, and
    filled into the truth copies so that time expectations cover them."""
    d = tmp_path_factory.mktemp("ingested")
    db = d / "kmswatch.db"
    http, pb = captures["http"], captures["pb"]
    before = int(math.floor(time.time() * 1000))
    res = run_kmswatch("ingest", "--db", db, "--json", http.path, pb.path)
    after = int(math.ceil(time.time() * 1000))
    assert res.rc == 0, res
    ing = Ingested(db, res.json(), http, pb, before, after)

    rc, found = lookup_records(db, [pb.errors[0]["request_id"]])
    assert rc == 0, "a pb record is missing right after ingest"
    pb_time = parse_rfc3339_ms(found[pb.errors[0]["request_id"]]["time"])
    assert before <= pb_time <= after, (before, pb_time, after)
    ing.pb_time_ms = pb_time
    for t in ing.records:
        if t["time_ms"] is None:
            t["time_ms"] = pb_time
    return ing


# ---------------------------------------------------------------------------
# The reference catalog.

def _md_cells(line):
    return [c.strip() for c in line.strip().strip("|").split("|")]


def load_catalog_md():
    """Rows of the tables of error-codes.md, as dicts: status, code,
    template (backticks removed; "" for "(varies)"), category, documented
    (True for the first table, the documentation page's).  The "(none)"
    row of HTTP 413 is not a code and is left out."""
    path = next((p for p in CATALOG_MD_CANDIDATES if p and os.path.isfile(p)),
                None)
    if path is None:
        pytest.fail("error-codes.md not found in %s; set "
                    "KMSWATCH_ERROR_CODES_MD" % CATALOG_MD_CANDIDATES,
                    pytrace=False)
    rows, table = [], -1
    with open(path, encoding="utf-8") as f:
        lines = f.read().splitlines()
    for i, line in enumerate(lines):
        if not line.startswith("|"):
            continue
        cells = _md_cells(line)
        if cells[0] == "HTTP":
            table += 1
            continue
        if set(cells[0]) <= set("-:"):
            continue
        code = cells[1]
        if code == "(none)":
            continue
        template = cells[2]
        if template.startswith("`") and template.endswith("`"):
            template = template[1:-1]
        elif template == "(varies)":
            template = ""
        rows.append({"status": int(cells[0].split()[0]), "code": code,
                     "template": template, "category": cells[-1],
                     "documented": table == 0})
    assert rows, "no catalog rows parsed from %s" % path
    return rows


@pytest.fixture(scope="session")
def catalog_md():
    return load_catalog_md()


def template_regex(template):
    """A message template as a regex: "<...>" matches anything."""
    if template == "":
        return re.compile(r".*", re.S)
    parts = re.split(r"<[^>]*>", template)
    return re.compile(".*?".join(re.escape(p) for p in parts), re.S)


def expected_category(catalog, code, message):
    """The category the reference gives a record: the row of its code whose
    template matches the message, else the code's first row, else
    "unknown" (a code outside the catalog)."""
    rows = [r for r in catalog if r["code"] == code]
    for r in rows:
        if template_regex(r["template"]).fullmatch(message):
            return r["category"]
    return rows[0]["category"] if rows else "unknown"


# ---------------------------------------------------------------------------
# The daemon.

class Client:
    """A tiny HTTP client for the daemon: request() -> (status, headers,
    parsed JSON body or None)."""

    def __init__(self, port):
        self.port = port
        self.base = "http://127.0.0.1:%d" % port

    def request(self, method, path, data=None):
        req = urllib.request.Request(self.base + path, data=data,
                                     method=method)
        try:
            with urllib.request.urlopen(req, timeout=10) as resp:
                status, headers, body = resp.status, resp.headers, resp.read()
        except urllib.error.HTTPError as e:
            status, headers, body = e.code, e.headers, e.read()
        doc = None
        if body:
            try:
                doc = json.loads(body)
            except ValueError as e:
                raise AssertionError("%s %s: body is not JSON (%s): %r"
                                     % (method, path, e, body[:300]))
        return status, headers, doc

    def get(self, path):
        return self.request("GET", path)


def free_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
    finally:
        s.close()


class Daemon:
    """`kmswatch serve` on loopback; stderr goes to a file beside the db."""

    def __init__(self, db, workdir, args=()):
        self.db = db
        self.workdir = workdir
        self.args = list(args)
        self.proc = None
        self.port = None
        self.stderr_path = None
        self.client = None

    def start(self, attempts=5):
        last = ""
        for attempt in range(attempts):
            port = free_port()
            self.stderr_path = self.workdir / ("serve-%d.err" % attempt)
            with open(self.stderr_path, "wb") as err:
                self.proc = subprocess.Popen(
                    [str(BINARY), "serve", "--db", str(self.db),
                     "--listen", "127.0.0.1:%d" % port] + self.args,
                    stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                    stderr=err)
            self.port = port
            self.client = Client(port)
            if self._wait_healthy():
                return self.client
            last = self.stderr()
            if self.proc.poll() is None:
                self.proc.kill()
            self.proc.wait()
        pytest.fail("kmswatch serve did not answer /healthz within %d s "
                    "(%d attempts); last stderr:\n%s"
                    % (DAEMON_START_TIMEOUT_S, attempts, last),
                    pytrace=False)

    def _wait_healthy(self):
        deadline = time.monotonic() + DAEMON_START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                return False        # e.g. the port was taken meanwhile
            try:
                status, _, _ = self.client.get("/healthz")
                if status == 200:
                    return True
            except (OSError, urllib.error.URLError):
                pass
            time.sleep(0.05)
        return False

    def stderr(self):
        return self.stderr_path.read_text("utf-8", "replace")

    def stop(self, sig=signal.SIGTERM):
        """Sends sig; returns the exit status (None if it did not exit)."""
        self.proc.send_signal(sig)
        try:
            return self.proc.wait(timeout=DAEMON_STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            return None

    def assert_stops_cleanly(self, sig=signal.SIGTERM):
        rc = self.stop(sig)
        log = self.stderr()
        assert rc == 0, "serve exited with %r after %s; stderr:\n%s" % (
            rc, signal.Signals(sig).name, log)
        assert re.search(r"^.*\bstopping\b", log, re.M), (
            "no \"stopping\" line in stderr:\n" + log)


@pytest.fixture(scope="session")
def daemon(tmp_path_factory, ingested):
    """A client of `kmswatch serve` over the ingested database."""
    d = Daemon(ingested.db, tmp_path_factory.mktemp("daemon"))
    client = d.start()
    client.daemon = d
    yield client
    d.assert_stops_cleanly(signal.SIGTERM)


@pytest.fixture
def make_daemon(tmp_path):
    """Starts extra daemons (db path -> Daemon); kills leftovers."""
    started = []

    def make(db, *args):
        d = Daemon(db, tmp_path, args)
        d.start()
        started.append(d)
        return d

    yield make
    for d in started:
        if d.proc.poll() is None:
            d.proc.kill()
            d.proc.wait()
