#!/usr/bin/python3
"""gen.py - synthetic Dedicated KMS captures for kmswatch.

Writes what kmswatch ingests: a stream of protobuf `Error` messages, an
HTTP/1.1 proxy dump of Dedicated KMS calls, or JSON Lines of Errors, plus an
optional "truth" file saying exactly which error records were written.
Standard library only; the proto3 `Error` message is encoded by hand:

    1 StatusCode   int32   tag 0x08, omitted when 0
    2 ErrorCode    string  tag 0x12, omitted when ""
    3 ErrorMessage string  tag 0x1a, omitted when ""
    4 RequestId    string  tag 0x22, omitted when ""

Usage
    gen.py --scenario FILE.json --format pb|http|jsonl --out PATH
           [--truth PATH] [--seed N] [--count N] [--start RFC3339]
           [--duration S] [--with-ok]
    gen.py --self-check

    --out -         writes to standard output (to pipe into
                    `kmswatch ingest --format FMT -`).
    --seed N        overrides the scenario's "seed" (default 1).
    --start T       overrides the scenario's "start" (RFC 3339, or unix
                    seconds); spikes move with it (their offset from the
                    start is kept).
    --duration S    overrides the scenario's "duration_s"; spikes are clipped
                    to the new window.
    --count N       exactly N error records, spread evenly over the duration,
                    codes drawn from "mix"; rates and spikes are ignored.
                    With --with-ok, round(N * ok_per_error) successful
                    exchanges are spread evenly as well.  pb and jsonl
                    work in chunks, so memory does not grow with N: a
                    hundred million records are fine.
    --with-ok       http only (ignored for pb and jsonl): also write 2xx
                    exchanges.
    --self-check    generate small pb, http and jsonl captures, decode them
                    back (http with http.client, jsonl with json.loads) and
                    compare with the truth files.

Output formats
    pb    varint length-delimited Error messages (writeDelimitedTo framing).
          StatusCode is always set in the body; no time, no api.
    http  for each call, the request (`POST / HTTP/1.1` with the SDK's
          headers and a small protobuf-ish body) followed by its response,
          back to back, CRLF line endings.  Error responses carry an Error
          body; about "body_status_ratio" (0.3) of them set StatusCode (equal
          to the HTTP status), the rest omit it, as the service often does.
          About "chunked_ratio" (0.2) of error responses use
          `Transfer-Encoding: chunked` (2 or 3 chunks) instead of
          Content-Length.  The response Date header is the record's time;
          the request's date is a few ms earlier (so it may fall in the
          previous second).  Requests are made consistent with the error:
          InvalidApiName carries the bad x-kms-apiname, MissingParameter has
          no x-kms-acccesskeyid header, InvalidParam (Date) has a malformed
          request date, RequestTimeTooSkewed a date 16-90 minutes off, and
          so on.
    jsonl one JSON object per line ("\\n" after each), the proto3 JSON form
          of the Error after the two keys kmswatch also reads, always in
          this order:
            {"time":1796288405706,"api":"Decrypt","StatusCode":409,
             "ErrorCode":"Rejected.Disabled","ErrorMessage":"...",
             "RequestId":"..."}
          time is the record's time as an integer of ms since the epoch
          (kmswatch reads numbers below 1e11 as seconds, so a --start
          before March 1973 would be misread).  api is picked as for http,
          InvalidApiName's being the bad name.  As in proto3 JSON, a 0
          StatusCode and empty strings are left out; StatusCode is the
          status, as in pb.  Non-ASCII characters become \\uXXXX escapes.

Scenario JSON (only "mix" is required)
    {
      "start": "2026-12-03T09:00:00Z",     RFC 3339
      "duration_s": 3600,
      "rate_per_min": 20,                  steady error rate (Poisson process)
      "mix": {"SignatureNotMatch": 0.3, "Rejected.Disabled": 0.2, ...},
                                           code weights; a code with several
                                           message templates uses each alike
      "apis": {"Encrypt": 0.5, ...},       x-kms-apiname weights (optional)
      "spikes": [{"code": "Rejected.Disabled", "at": "2026-12-03T09:40:00Z",
                  "duration_s": 300, "rate_per_min": 300,
                  "api": "Decrypt"}],      extra errors on top ("api" optional)
      "ok_per_error": 3,                   2xx exchanges per steady error
      "extra_codes": {"Rejected.New": {"status": 409, "message": "..."}},
                                           codes beyond the catalog; a mix
                                           code found nowhere gets status 409
                                           (Rejected.*) or 400 and the message
                                           "The request was rejected."
      "body_status_ratio": 0.3,
      "chunked_ratio": 0.2,
      "seed": 1
    }
    Successful exchanges run at rate_per_min * ok_per_error over the whole
    duration; spikes add errors only, so error ratios rise during a spike.

Truth file (--truth PATH), JSON Lines in the order things were written
    error record:
      {"request_id": "<upper-case UUID4>", "code": ..., "status": <int>,
       "message": ..., "api": <str|null>, "time_ms": <int|null>,
       "body_status": <int>}
      status       the HTTP status (pb, jsonl: the StatusCode in the body)
      api          x-kms-apiname of the request (jsonl: "api"; pb: null)
      time_ms      the response's Date header in ms since the epoch, so a
                   whole second (jsonl: "time", to the ms; pb: null)
      body_status  the StatusCode put in the body, 0 when omitted
    successful exchange (http --with-ok only):
      {"ok": true, "api": ..., "status": 200, "time_ms": <int>}

Determinism: everything comes from one random.Random(seed); the same seed
and arguments give byte-identical output (with the same Python).  RequestIds
are 122 random bits each and are not checked for uniqueness; a collision is
practically impossible.
"""

import argparse
import base64
import datetime
import hashlib
import io
import json
import os
import random
import sys
import tempfile
import time

# ---------------------------------------------------------------------------
# The catalog (shared/reference/error-codes.md).  "{}" marks the varying
# part; `pool` names where its values come from; `fault` says how the
# request that provoked the error differs from a good one.

CATALOG = [
    # status, code, template, pool for "{}", request fault
    (400, "InvalidParam", "The Param Date is invalid.", None, "date_bad"),
    (400, "InvalidApiVersion", 'The ApiVersion "{}" is invalid.',
     "apiversion", "apiversion"),
    (400, "MissingParameter",
     "Parameter x-kms-acccesskeyid does not exist in http header or body.",
     None, "no_accesskey"),
    (400, "InvalidParam", "The Param x-kms-signaturemethod is invalid.",
     None, "no_sigmethod"),
    (400, "InvalidParam",
     'The Param x-kms-signaturemethod is invalid. message:"{}".',
     "sigmethod", "sigmethod"),
    (400, "RequestTimeTooSkewed",
     "Request time exceeds server time more than 15 minutes.", None, "skew"),
    (400, "InvalidApiName", 'The ApiName "{}" is invalid.',
     "apiname", "apiname"),
    (401, "SignatureNotMatch", "Signature is not matched.", None, None),
    (404, "Unauthorized",
     'The AccessKey ID "{}" does not exist in our records.',
     "unknown_ak", "accesskey"),
    (403, "Forbidden.NoPermission",
     'This operation for "{}" is forbidden by permission system.',
     "key_or_alias", "key"),
    (404, "Forbidden.KeyNotFound",
     "The key Key ID or Alias does not exist in the system.",
     None, "missing_key"),
    (404, "Forbidden.KeyNotFound",
     'The key Key ID or Alias does not exist in the key store "{}".',
     "other_kst", None),
    (409, "Rejected.State",
     "The request was rejected because the key state is {}.", "state", None),
    (409, "Rejected.PendingDeletion",
     "The request was rejected because the key state is PendingDeletion.",
     None, None),
    (409, "Rejected.Disabled",
     "The request was rejected because the key state is Disabled.",
     None, None),
    (409, "Rejected.PendingImport",
     "The request was rejected because the key state is PendingImport.",
     None, None),
    (415, "InvalidContentType", 'Content-Type "{}" is unsupported.',
     "ctype", "ctype"),
    (500, "InternalFailure", "Internal Failure.", None, None),
    (503, "ServiceUnavailableTemporary", "Service Unavailable Temporary.",
     None, None),
    (400, "InvalidParameter", "The specified parameter is not valid.",
     None, None),
    (400, "UnsupportedOperation", "Rejected.UnsupportedOperation", None, None),
    (400, "InvalidParam", "The Param Authorization is invalid.",
     None, "auth_bad"),
    (429, "Rejected.Throttling", "{}", "throttle", None),
]

APIS = [
    "Encrypt", "Decrypt", "Sign", "Verify", "Hmac", "GenerateRandom",
    "GenerateDataKey", "GetPublicKey", "GetSecretValue", "AdvanceEncrypt",
    "AdvanceDecrypt", "AdvanceGenerateDataKey", "GenerateDataKeyPair",
    "GenerateDataKeyPairWithoutPlaintext", "AdvanceGenerateDataKeyPair",
    "AdvanceGenerateDataKeyPairWithoutPlaintext",
]

# Used when the scenario has no "apis".
DEFAULT_APIS = {
    "Decrypt": 30, "Encrypt": 22, "GenerateDataKey": 10, "GetSecretValue": 10,
    "Sign": 6, "Verify": 4, "Hmac": 3, "GenerateRandom": 3,
    "GetPublicKey": 2, "AdvanceEncrypt": 3, "AdvanceDecrypt": 3,
    "AdvanceGenerateDataKey": 1, "GenerateDataKeyPair": 1,
    "GenerateDataKeyPairWithoutPlaintext": 0.5,
    "AdvanceGenerateDataKeyPair": 0.3,
    "AdvanceGenerateDataKeyPairWithoutPlaintext": 0.2,
}

# Codes that concern one key: never on a call that names no key.
KEYED_CODES = {
    "Forbidden.NoPermission", "Forbidden.KeyNotFound", "Rejected.State",
    "Rejected.PendingDeletion", "Rejected.Disabled", "Rejected.PendingImport",
    "UnsupportedOperation",
}
KEYLESS_APIS = {"GenerateRandom", "GetSecretValue"}

REASONS = {
    200: "OK", 400: "Bad Request", 401: "Unauthorized", 403: "Forbidden",
    404: "Not Found", 409: "Conflict", 413: "Payload Too Large",
    415: "Unsupported Media Type", 429: "Too Many Requests",
    500: "Internal Server Error", 503: "Service Unavailable",
}

USER_AGENTS = [
    "AlibabaCloud (linux; amd64) Go/go1.21.6 Core/1.0.0 TeaDSL/1 "
    "kms-gcs-go-sdk-version/0.5.1",
    "AlibabaCloud (Linux; amd64) Java/1.8.0_392 tea-util/0.2.21 TeaDSL/1 "
    "kms-gcs-java-sdk-version/0.1.2",
    "AlibabaCloud (linux; x86_64) Python/3.9.18 Core/0.3.3 TeaDSL/1 "
    "kms-gcs-python-sdk-version/0.1.2",
]

PB = "application/x-protobuf"
_WD = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MON = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep",
        "Oct", "Nov", "Dec")
_EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)
_ALNUM = "abcdefghijklmnopqrstuvwxyz0123456789"
_UUID_MASK = ((1 << 128) - 1) & ~((0xF << 76) | (0x3 << 62))
_UUID_BITS = (0x4 << 76) | (0x2 << 62)
_FLUSH = 1 << 20
# Records per batch on the fast paths: large enough that the per-batch
# cost vanishes, small enough that memory stays bounded for any --count.
_CHUNK = 65536


class Usage(Exception):
    pass


# ---------------------------------------------------------------------------
# Small encoders.

def varint(n):
    out = bytearray()
    while n > 0x7F:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def pb_string(tag, s):
    b = s.encode() if isinstance(s, str) else s
    if not b:
        return b""
    return bytes((tag,)) + varint(len(b)) + b


def encode_error(status, code, message, request_id):
    """The proto3 encoding of api.Error; defaults are omitted."""
    out = b""
    if status:
        out += b"\x08" + varint(status)
    return (out + pb_string(0x12, code) + pb_string(0x1a, message)
            + pb_string(0x22, request_id))


def rfc1123(ms):
    tm = time.gmtime(ms // 1000)
    return "%s, %02d %s %d %02d:%02d:%02d GMT" % (
        _WD[tm.tm_wday], tm.tm_mday, _MON[tm.tm_mon - 1], tm.tm_year,
        tm.tm_hour, tm.tm_min, tm.tm_sec)


def parse_time(s):
    """RFC 3339 (a missing zone means UTC) or unix seconds -> ms."""
    s = str(s).strip()
    if s.isdigit():
        return int(s) * 1000
    try:
        dt = datetime.datetime.fromisoformat(s.replace("Z", "+00:00"))
    except ValueError:
        raise Usage("not an RFC 3339 time: %r" % s)
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=datetime.timezone.utc)
    return (dt - _EPOCH) // datetime.timedelta(milliseconds=1)


def new_uuid(rng):
    s = "%032X" % ((rng.getrandbits(128) & _UUID_MASK) | _UUID_BITS)
    return "%s-%s-%s-%s-%s" % (s[:8], s[8:12], s[12:16], s[16:20], s[20:])


def cumulative(weights):
    cum, total = [], 0.0
    for w in weights:
        total += w
        cum.append(total)
    if not cum or total <= 0:
        raise Usage("weights must contain a positive value")
    return cum


# ---------------------------------------------------------------------------
# The world a capture comes from: one instance, its keys, its callers.

def make_pools(rng):
    def rid(prefix, n=17):
        return prefix + "".join(rng.choice(_ALNUM) for _ in range(n))

    def ak():
        return "KAAP." + new_uuid(rng).lower()

    keys = [rid("key-hzz6") for _ in range(10)]
    aks = [ak() for _ in range(5)]
    return {
        "instance": rid("kst-hzz6"),
        "keys": keys,
        # keys that are in the state their error names
        "state_keys": {"Rejected.Disabled": keys[:2],
                       "Rejected.PendingDeletion": keys[2:3],
                       "Rejected.PendingImport": keys[3:4],
                       "Rejected.State": keys[:4]},
        "access_keys": aks,
        "agents": {a: USER_AGENTS[i % len(USER_AGENTS)]
                   for i, a in enumerate(aks)},
        "unknown_ak": [ak() for _ in range(3)],
        "key_or_alias": keys[4:9] + ["alias/payments-prod", "alias/app-db"],
        "missing_key": [rid("key-hzz6") for _ in range(3)]
        + ["alias/legacy-orders"],
        "other_kst": [rid("kst-hzz6") for _ in range(2)],
        "apiversion": ["dkms-gcs-0.1", "dkms-0.2", "2016-01-20",
                       "dkms-gcs-1.0"],
        "sigmethod": ["RSA_PKCS1_SHA_1", "HMAC_SHA256", "RSA_PSS_SHA_256",
                      "ECDSA_SHA_256"],
        "apiname": ["DescribeKey", "ListKeys", "Encrpyt", "CreateKey",
                    "decrypt", "GetParametersForImport"],
        "ctype": ["application/json", "text/plain; charset=utf-8",
                  "application/octet-stream",
                  "application/x-www-form-urlencoded"],
        "state": ["Disabled", "PendingDeletion", "PendingImport"],
        "throttle": ["Request was denied due to request throttling.",
                     "The request was denied because the instance QPS limit "
                     "was exceeded."],
        "secrets": ["prod/db-password", "prod/redis-auth", "payments/api-key"],
    }


class Variant:
    """One concrete (status, code, message) and the request fault behind it."""
    __slots__ = ("status", "code", "message", "fault", "value", "pb_prefix",
                 "truth_tail")

    def __init__(self, status, code, message, fault, value):
        self.status, self.code, self.message = status, code, message
        self.fault, self.value = fault, value
        # pb mode: everything but the RequestId, precomputed.
        body_len = len(encode_error(status, code, message, "X" * 36))
        head = encode_error(status, code, message, "")
        self.pb_prefix = (varint(body_len) + head + b"\x22\x24").decode(
            "latin-1")
        self.truth_tail = '", "code": %s, "status": %d, "message": %s, ' \
            '"api": null, "time_ms": null, "body_status": %d}\n' % (
                json.dumps(code), status, json.dumps(message), status)


def build_variants(scenario, pools):
    """All variants, their mix weights, and the variant indices per code."""
    extra = scenario.get("extra_codes") or {}
    mix = scenario.get("mix")
    if not isinstance(mix, dict) or not mix:
        raise Usage("scenario needs a non-empty \"mix\"")
    spike_codes = [s.get("code") for s in scenario.get("spikes") or []]
    codes = list(mix) + [c for c in spike_codes if c not in mix]
    variants, weights, by_code = [], [], {}
    for code in codes:
        if not isinstance(code, str) or not code:
            raise Usage("bad code in scenario: %r" % (code,))
        rows = [r for r in CATALOG if r[1] == code]
        if code in extra:
            e = extra[code]
            rows = [(int(e.get("status", 400)), code,
                     e.get("message", "").replace("{", "{{").replace(
                         "}", "}}"), None, None)]
        elif not rows:
            rows = [(409 if code.startswith("Rejected.") else 400, code,
                     "The request was rejected.", None, None)]
        w = float(mix.get(code, 0))
        if w < 0:
            raise Usage("negative weight for %s" % code)
        idx = by_code.setdefault(code, [])
        for status, _, tmpl, pool, fault in rows:
            values = pools[pool] if pool else [None]
            for v in values:
                msg = tmpl.format(v) if pool else tmpl.format()
                idx.append(len(variants))
                variants.append(Variant(status, code, msg, fault, v))
                weights.append(w / len(rows) / len(values))
    return variants, weights, by_code


# ---------------------------------------------------------------------------
# Timing.

def poisson_times(rng, start_ms, end_ms, rate_per_min):
    out = []
    if rate_per_min <= 0 or end_ms <= start_ms:
        return out
    lam = rate_per_min / 60000.0
    t = float(start_ms)
    while True:
        t += rng.expovariate(lam)
        if t >= end_ms:
            return out
        out.append(int(t))


def even_times(start_ms, duration_ms, n, lo=0, hi=None):
    """The times of records lo..hi-1 of n spread evenly over the duration,
    each in the middle of its 1/n slice; a slice of the whole list, so
    that a long run can be produced in pieces."""
    hi = n if hi is None else hi
    return [start_ms + (2 * i + 1) * duration_ms // (2 * n)
            for i in range(lo, hi)]


class Plan:
    """What the scenario and the options ask for."""

    def __init__(self, scenario, seed=None, count=None, start=None,
                 duration=None, with_ok=False):
        self.scenario = scenario
        self.seed = int(seed if seed is not None else scenario.get("seed", 1))
        self.count = count
        base = parse_time(scenario.get("start", "2026-12-03T09:00:00Z"))
        self.start_ms = parse_time(start) if start is not None else base
        self.shift = self.start_ms - base
        dur = duration if duration is not None else scenario.get(
            "duration_s", 3600)
        self.duration_ms = int(float(dur) * 1000)
        if self.duration_ms <= 0:
            raise Usage("duration must be positive")
        self.end_ms = self.start_ms + self.duration_ms
        self.rate = float(scenario.get("rate_per_min", 20))
        self.ok_per_error = float(scenario.get("ok_per_error", 3))
        self.with_ok = with_ok
        self.body_status_ratio = float(scenario.get("body_status_ratio", 0.3))
        self.chunked_ratio = float(scenario.get("chunked_ratio", 0.2))
        apis = scenario.get("apis") or DEFAULT_APIS
        self.api_weights = {a: float(w) for a, w in apis.items()}
        self.apis = list(apis)
        self.api_cum = cumulative([float(apis[a]) for a in self.apis])
        keyed = [a for a in self.apis if a not in KEYLESS_APIS]
        self.keyed_apis = keyed or self.apis
        self.keyed_cum = cumulative([float(apis[a]) for a in self.keyed_apis])
        self.spikes = []
        for s in scenario.get("spikes") or []:
            if "at" not in s or "code" not in s or "rate_per_min" not in s:
                raise Usage("a spike needs code, at and rate_per_min")
            at = parse_time(s["at"]) + self.shift
            end = at + int(float(s.get("duration_s", 300)) * 1000)
            self.spikes.append((s["code"], max(at, self.start_ms),
                                min(end, self.end_ms),
                                float(s["rate_per_min"]), s.get("api")))

    def pick_api(self, rng, keyed):
        """An x-kms-apiname from the weights; a keyed code never comes from
        a call that names no key."""
        if keyed:
            return rng.choices(self.keyed_apis, cum_weights=self.keyed_cum)[0]
        return rng.choices(self.apis, cum_weights=self.api_cum)[0]

    def api_choices(self, keyed):
        """[(api, probability)] that pick_api(rng, keyed) follows."""
        names = self.keyed_apis if keyed else self.apis
        total = sum(self.api_weights[a] for a in names)
        return [(a, self.api_weights[a] / total) for a in names]

    def events(self, rng):
        """[(time_ms, kind, arg)] in time order: kind "err" with arg a
        variant index, or "ok" with arg None."""
        ev = []
        if self.count is not None:
            for t in even_times(self.start_ms, self.duration_ms, self.count):
                ev.append((t, "err", None))
            if self.with_ok:
                n = int(round(self.count * self.ok_per_error))
                ev += [(t, "ok", None) for t in
                       even_times(self.start_ms, self.duration_ms, n)]
        else:
            for t in poisson_times(rng, self.start_ms, self.end_ms,
                                   self.rate):
                ev.append((t, "err", None))
            for i, (_, at, end, rate, _) in enumerate(self.spikes):
                ev += [(t, "err", i) for t in
                       poisson_times(rng, at, end, rate)]
            if self.with_ok:
                ev += [(t, "ok", None) for t in
                       poisson_times(rng, self.start_ms, self.end_ms,
                                     self.rate * self.ok_per_error)]
        ev.sort(key=lambda e: e[0])
        return ev


# ---------------------------------------------------------------------------
# pb.

class Sinks:
    """Buffered output and truth files."""

    def __init__(self, out, truth):
        self.out, self.truth = out, truth
        self.obuf, self.tbuf, self.osize = [], [], 0

    def write(self, b):
        self.obuf.append(b)
        self.osize += len(b)
        if self.osize >= _FLUSH:
            self.flush()

    def fact(self, obj):
        if self.truth is not None:
            self.tbuf.append(json.dumps(obj) + "\n")

    def flush(self):
        self.out.write(b"".join(self.obuf))
        self.obuf, self.osize = [], 0
        if self.truth is not None and self.tbuf:
            self.truth.write("".join(self.tbuf))
            self.tbuf = []


def slices(seq, size=None):
    """seq (a list) in consecutive slices of at most size (_CHUNK) items."""
    size = size or _CHUNK
    for lo in range(0, len(seq), size):
        yield seq[lo:lo + size]


def drawn_chunks(rng, population, cum, count, size=None):
    """count draws from population, a list of at most size (_CHUNK) at a
    time.  Consecutive choices() calls use the generator exactly as one
    call with the total k would, so the split changes no value."""
    size = size or _CHUNK
    for lo in range(0, count, size):
        yield rng.choices(population, cum_weights=cum,
                          k=min(size, count - lo))


def write_pb(chunks, variants, rng, out, truth):
    """The fast path: per record only the RequestId is new.  chunks yields
    lists of variant indices; each list is written as one piece."""
    getbits = rng.getrandbits
    mask, bits = _UUID_MASK, _UUID_BITS
    prefix = [v.pb_prefix for v in variants]
    tail = [v.truth_tail for v in variants]
    n = 0
    for chunk in chunks:
        n += len(chunk)
        opart, tpart = [], []
        oadd, tadd = opart.append, tpart.append
        for i in chunk:
            s = "%032X" % ((getbits(128) & mask) | bits)
            r = f"{s[:8]}-{s[8:12]}-{s[12:16]}-{s[16:20]}-{s[20:]}"
            oadd(prefix[i])
            oadd(r)
            if truth is not None:
                tadd('{"request_id": "')
                tadd(r)
                tadd(tail[i])
        out.write("".join(opart).encode("latin-1"))
        if truth is not None:
            truth.write("".join(tpart))
    return n


# ---------------------------------------------------------------------------
# jsonl.

class JsonlPieces:
    """The constant parts of jsonl lines and their truth records, one entry
    per (variant, api) pair, numbered in the order first asked for.  A line
    is '{"time":' T line[i] RequestId '"}\\n'; its truth record is
    '{"request_id": "' RequestId truth_a[i] T truth_b[i]."""

    def __init__(self, variants):
        self.variants = variants
        self.line, self.truth_a, self.truth_b = [], [], []
        self.numbers = {}
        # The Error's members after "api", by variant: proto3 JSON leaves
        # out defaults, and json.dumps makes any message a valid string.
        self.members = []
        for v in variants:
            m = {}
            if v.status:
                m["StatusCode"] = v.status
            if v.code:
                m["ErrorCode"] = v.code
            if v.message:
                m["ErrorMessage"] = v.message
            self.members.append(json.dumps(m, separators=(",", ":"))[1:-1])

    def number(self, vi, api):
        key = (vi, api)
        i = self.numbers.get(key)
        if i is not None:
            return i
        v = self.variants[vi]
        head = ',"api":' + json.dumps(api) if api else ""
        if self.members[vi]:
            head += "," + self.members[vi]
        self.line.append(head + ',"RequestId":"')
        # The same keys, order and spacing as the http truth (json.dumps
        # of a dict); body_status is the StatusCode written, as for pb.
        self.truth_a.append(
            '", "code": %s, "status": %d, "message": %s, "api": %s, '
            '"time_ms": ' % (json.dumps(v.code), v.status,
                             json.dumps(v.message), json.dumps(api or None)))
        self.truth_b.append(', "body_status": %d}\n' % v.status)
        i = self.numbers[key] = len(self.line) - 1
        return i


def jsonl_count_chunks(plan, rng, jp, mix_idx, weights):
    """--count: (times, pair numbers) per chunk, the times spread evenly.
    Variant and api are drawn together, one choices() value per record,
    from the joint weights: the variant's mix weight times the api's share
    among those pick_api() would choose from."""
    nums, probs = [], []
    for vi in mix_idx:
        v = jp.variants[vi]
        if v.fault == "apiname":  # the bad name is the api, as in http
            apis = [(v.value, 1.0)]
        else:
            apis = plan.api_choices(v.code in KEYED_CODES)
        for api, share in apis:
            if share > 0:
                nums.append(jp.number(vi, api))
                probs.append(weights[vi] * share)
    cum = cumulative(probs)
    n = plan.count
    for lo in range(0, n, _CHUNK):
        hi = min(n, lo + _CHUNK)
        yield (even_times(plan.start_ms, plan.duration_ms, n, lo, hi),
               rng.choices(nums, cum_weights=cum, k=hi - lo))


def jsonl_event_chunks(plan, rng, jp, pick):
    """The scenario's event plan, spikes included: (times, pair numbers)
    per chunk, variant and api chosen as HttpWriter.error() does."""
    variants = jp.variants
    for chunk in slices(plan.events(rng)):
        times, nums = [], []
        for t, _, spike in chunk:
            if spike is None:
                vi, api = pick(), None
            else:
                code, _, _, _, api = plan.spikes[spike]
                vi = pick(code)
            v = variants[vi]
            if api is None:
                api = plan.pick_api(rng, v.code in KEYED_CODES)
            if v.fault == "apiname":
                api = v.value
            times.append(t)
            nums.append(jp.number(vi, api))
        yield times, nums


def write_jsonl(chunks, jp, rng, out, truth):
    """The fast path: per record only the time, the (variant, api) pair and
    the RequestId vary; chunks yields (times, pair numbers) lists."""
    getbits = rng.getrandbits
    mask, bits = _UUID_MASK, _UUID_BITS
    # The lists themselves: the event path adds pairs while it goes.
    line, ta, tb = jp.line, jp.truth_a, jp.truth_b
    n = 0
    for times, nums in chunks:
        n += len(nums)
        opart, tpart = [], []
        oadd, tadd = opart.append, tpart.append
        if truth is None:
            for t, i in zip(times, nums):
                s = "%032X" % ((getbits(128) & mask) | bits)
                oadd(f'{{"time":{t}{line[i]}{s[:8]}-{s[8:12]}-{s[12:16]}'
                     f'-{s[16:20]}-{s[20:]}"}}\n')
        else:
            for t, i in zip(times, nums):
                s = "%032X" % ((getbits(128) & mask) | bits)
                r = f"{s[:8]}-{s[8:12]}-{s[12:16]}-{s[16:20]}-{s[20:]}"
                oadd(f'{{"time":{t}{line[i]}{r}"}}\n')
                tadd(f'{{"request_id": "{r}{ta[i]}{t}{tb[i]}')
        # ensure_ascii json.dumps: the text is ASCII, any codec will do
        out.write("".join(opart).encode("ascii"))
        if truth is not None:
            truth.write("".join(tpart))
    return n


# ---------------------------------------------------------------------------
# http.

class HttpWriter:
    def __init__(self, plan, pools, rng, sinks):
        self.plan, self.pools, self.rng, self.sinks = plan, pools, rng, sinks
        self.host = pools["instance"] + ".cryptoservice.kms.aliyuncs.com"

    def pick_api(self, keyed):
        return self.plan.pick_api(self.rng, keyed)

    def request_body(self, api, key):
        rng = self.rng
        if api == "GenerateRandom":
            return b"\x08" + varint(rng.choice((16, 32, 64)))
        if api == "GetSecretValue":
            return pb_string(0x0a, rng.choice(self.pools["secrets"]))
        body = pb_string(0x0a, key)
        if api in ("Verify", "Sign"):
            body += pb_string(0x12, "RSA_PKCS1_SHA_256")
        return body + pb_string(0x1a, rng.randbytes(rng.randint(8, 96)))

    def request(self, t_ms, api, variant, key):
        rng, pools = self.rng, self.pools
        fault = variant.fault if variant else None
        value = variant.value if variant else None
        t_req = t_ms - rng.randint(2, 60)
        date = rfc1123(t_req)
        if fault == "date_bad":
            date = rng.choice((
                time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t_req // 1000)),
                str(t_req // 1000),
                time.strftime("%A, %d-%b-%y %H:%M:%S", time.gmtime(
                    t_req // 1000)),
            ))
        elif fault == "skew":
            off = rng.randint(16 * 60, 90 * 60) * 1000
            date = rfc1123(t_req + rng.choice((-1, 1)) * off)
        ak = rng.choice(pools["access_keys"])
        agent = pools["agents"][ak]
        if fault == "accesskey":
            ak = value
        body = self.request_body(api, key)
        sig = rng.randbytes(256)
        auth = "Bearer " + base64.b64encode(sig).decode()
        if fault == "auth_bad":
            auth = rng.choice(("Bearer", "Bearer " + base64.b64encode(
                sig[:40]).decode()[:-2] + "!!", "Basic " +
                base64.b64encode(ak.encode()).decode()))
        headers = [
            ("Host", self.host),
            ("content-type", value if fault == "ctype" else PB),
            ("accept", PB),
            ("date", date),
            ("x-kms-apiversion", (value or None) if fault == "apiversion"
             else "dkms-gcs-0.2"),
            ("x-kms-apiname", api),
            ("x-kms-signaturemethod",
             None if fault == "no_sigmethod" else
             value if fault == "sigmethod" else "RSA_PKCS1_SHA_256"),
            ("x-kms-acccesskeyid", None if fault == "no_accesskey" else ak),
            ("content-sha256", hashlib.sha256(body).hexdigest().upper()),
            ("authorization", auth),
            ("user-agent", agent),
            ("content-length", str(len(body))),
        ]
        head = "POST / HTTP/1.1\r\n" + "".join(
            "%s: %s\r\n" % (k, v) for k, v in headers if v is not None)
        return (head + "\r\n").encode() + body

    def response(self, t_ms, status, body, chunked):
        head = "HTTP/1.1 %d %s\r\nDate: %s\r\nContent-Type: %s\r\n" % (
            status, REASONS.get(status, "Unknown"), rfc1123(t_ms), PB)
        if not chunked:
            head += "Content-Length: %d\r\n\r\n" % len(body)
            return head.encode() + body
        head += "Transfer-Encoding: chunked\r\n\r\n"
        n = self.rng.choice((2, 3))
        cuts = sorted(self.rng.sample(range(1, len(body)), n - 1))
        out = [head.encode()]
        for a, b in zip([0] + cuts, cuts + [len(body)]):
            out.append(b"%x\r\n" % (b - a) + body[a:b] + b"\r\n")
        out.append(b"0\r\n\r\n")
        return b"".join(out)

    def error(self, t_ms, variant, api):
        rng, pools = self.rng, self.pools
        if api is None:
            api = self.pick_api(variant.code in KEYED_CODES)
        if variant.fault == "apiname":
            api = variant.value
        if variant.fault == "key":
            key = variant.value
        elif variant.fault == "missing_key":
            key = rng.choice(pools["missing_key"])
        elif variant.code in pools["state_keys"]:
            key = rng.choice(pools["state_keys"][variant.code])
        else:
            key = rng.choice(pools["keys"])
        req = self.request(t_ms, api, variant, key)
        rid = new_uuid(rng)
        body_status = (variant.status
                       if rng.random() < self.plan.body_status_ratio else 0)
        body = encode_error(body_status, variant.code, variant.message, rid)
        chunked = rng.random() < self.plan.chunked_ratio
        self.sinks.write(req + self.response(t_ms, variant.status, body,
                                             chunked))
        t_s = t_ms // 1000 * 1000
        self.sinks.fact({"request_id": rid, "code": variant.code,
                         "status": variant.status, "message": variant.message,
                         "api": api, "time_ms": t_s,
                         "body_status": body_status})

    def ok(self, t_ms):
        rng = self.rng
        api = self.pick_api(False)
        key = rng.choice(self.pools["keys"])
        req = self.request(t_ms, api, None, key)
        body = (pb_string(0x0a, key)
                + pb_string(0x12, rng.randbytes(rng.randint(16, 128)))
                + pb_string(0x22, new_uuid(rng)))
        self.sinks.write(req + self.response(t_ms, 200, body, False))
        self.sinks.fact({"ok": True, "api": api, "status": 200,
                         "time_ms": t_ms // 1000 * 1000})


# ---------------------------------------------------------------------------

def generate(scenario, fmt, out, truth=None, seed=None, count=None,
             start=None, duration=None, with_ok=False):
    """Writes one capture to the binary file out (and truth, a text file).
    Returns the number of error records written."""
    if fmt not in ("pb", "http", "jsonl"):
        raise Usage("format must be pb, http or jsonl")
    if count is not None and count < 0:
        raise Usage("--count must not be negative")
    plan = Plan(scenario, seed, count, start, duration,
                with_ok and fmt == "http")
    rng = random.Random(plan.seed)
    pools = make_pools(rng)
    variants, weights, by_code = build_variants(scenario, pools)
    mix_idx = [i for i, w in enumerate(weights) if w > 0]
    mix_cum = cumulative([weights[i] for i in mix_idx])

    def pick(code=None):
        if code is None:
            return rng.choices(mix_idx, cum_weights=mix_cum)[0]
        return rng.choice(by_code[code])

    if fmt == "pb":
        if count is not None:
            # All N indices used to be drawn before the first RequestId.
            # To keep that stream, and so the output, without holding N
            # indices, a copy of the generator draws them in chunks while
            # the generator itself is first moved past them all.
            copy = random.Random()
            copy.setstate(rng.getstate())
            for _ in drawn_chunks(rng, mix_idx, mix_cum, count):
                pass
            chunks = drawn_chunks(copy, mix_idx, mix_cum, count)
        else:
            chunks = slices([
                pick(None if e[2] is None else plan.spikes[e[2]][0])
                for e in plan.events(rng)])
        return write_pb(chunks, variants, rng, out, truth)

    if fmt == "jsonl":
        jp = JsonlPieces(variants)
        if count is not None:
            chunks = jsonl_count_chunks(plan, rng, jp, mix_idx, weights)
        else:
            chunks = jsonl_event_chunks(plan, rng, jp, pick)
        return write_jsonl(chunks, jp, rng, out, truth)

    sinks = Sinks(out, truth)
    w = HttpWriter(plan, pools, rng, sinks)
    n = 0
    for t, kind, spike in plan.events(rng):
        if kind == "ok":
            w.ok(t)
            continue
        if spike is None:
            w.error(t, variants[pick()], None)
        else:
            code, _, _, _, api = plan.spikes[spike]
            w.error(t, variants[pick(code)], api)
        n += 1
    sinks.flush()
    return n


def main(argv=None):
    ap = argparse.ArgumentParser(
        description="Generate synthetic Dedicated KMS captures "
        "(see the module docstring).")
    ap.add_argument("--scenario", help="scenario JSON file")
    ap.add_argument("--format", choices=("pb", "http", "jsonl"))
    ap.add_argument("--out", help="capture to write ('-' for stdout)")
    ap.add_argument("--truth", help="JSON Lines truth file to write")
    ap.add_argument("--seed", type=int)
    ap.add_argument("--count", type=int)
    ap.add_argument("--start", help="RFC 3339 start, overrides the scenario")
    ap.add_argument("--duration", type=float,
                    help="seconds, overrides the scenario's duration_s")
    ap.add_argument("--with-ok", action="store_true")
    ap.add_argument("--self-check", action="store_true")
    a = ap.parse_args(argv)
    if a.self_check:
        return self_check()
    if not (a.scenario and a.format and a.out):
        ap.error("--scenario, --format and --out are required")
    try:
        with open(a.scenario) as f:
            scenario = json.load(f)
    except (OSError, ValueError) as e:
        ap.error("scenario %s: %s" % (a.scenario, e))
    out = (sys.stdout.buffer if a.out == "-"
           else open(a.out, "wb", buffering=1 << 20))
    truth = (open(a.truth, "w", encoding="utf-8", buffering=1 << 20)
             if a.truth else None)
    try:
        generate(scenario, a.format, out, truth, a.seed, a.count, a.start,
                 a.duration, a.with_ok)
    except Usage as e:
        ap.error(str(e))
    finally:
        out.flush()
        if out is not sys.stdout.buffer:
            out.close()
        if truth:
            truth.close()
    return 0


# ---------------------------------------------------------------------------
# Self-check: decode what was generated and compare with the truth.

def _read_varint(buf, i):
    shift = n = 0
    while True:
        b = buf[i]
        i += 1
        n |= (b & 0x7F) << shift
        if b < 0x80:
            return n, i
        shift += 7


def _decode_error(msg):
    rec, i = {"StatusCode": 0, "ErrorCode": "", "ErrorMessage": "",
              "RequestId": ""}, 0
    names = {2: "ErrorCode", 3: "ErrorMessage", 4: "RequestId"}
    while i < len(msg):
        key, i = _read_varint(msg, i)
        field, wire = key >> 3, key & 7
        if field == 1 and wire == 0:
            rec["StatusCode"], i = _read_varint(msg, i)
        elif field in names and wire == 2:
            n, i = _read_varint(msg, i)
            rec[names[field]] = msg[i:i + n].decode("utf-8")
            i += n
        else:
            raise AssertionError("unexpected field %d/%d" % (field, wire))
    return rec


class _Stream(io.BytesIO):
    def close(self):  # http.client closes its fp after each response
        pass


class _Sock:
    def __init__(self, fp):
        self.fp = fp

    def makefile(self, *a, **k):
        return self.fp


def _check(cond, what):
    if not cond:
        raise AssertionError(what)


def _parse_http(data):
    """[(request headers, response status, headers, body)] via http.client."""
    import email.utils
    import http.client
    fp, out = _Stream(data), []
    while fp.tell() < len(data):
        line = fp.readline()
        _check(line == b"POST / HTTP/1.1\r\n", "request line %r" % line)
        req = http.client.parse_headers(fp)
        body = fp.read(int(req["content-length"]))
        _check(hashlib.sha256(body).hexdigest().upper()
               == req["content-sha256"], "content-sha256")
        resp = http.client.HTTPResponse(_Sock(fp))
        resp.begin()
        rbody = resp.read()
        date = email.utils.parsedate_to_datetime(resp.getheader("Date"))
        ms = (date - _EPOCH) // datetime.timedelta(milliseconds=1)
        out.append((req, resp.status, resp, rbody, ms))
    return out


_JSONL_KEYS = ("time", "api", "StatusCode", "ErrorCode", "ErrorMessage",
               "RequestId")


def _check_jsonl(data, facts):
    """Parses a jsonl capture line by line and compares it with its truth."""
    text = data.decode("ascii")
    _check(text == "" or text.endswith("\n"), "jsonl: last line unended")
    lines = text.split("\n")[:-1]
    _check(len(lines) == len(facts), "jsonl: %d lines, %d truth records"
           % (len(lines), len(facts)))
    for k, (line, f) in enumerate(zip(lines, facts), 1):
        rec = json.loads(line)
        keys = tuple(rec)
        _check(keys == tuple(x for x in _JSONL_KEYS if x in keys),
               "jsonl line %d: key order %r" % (k, keys))
        _check((rec.get("StatusCode", 0), rec.get("ErrorCode", ""),
                rec.get("ErrorMessage", ""), rec["RequestId"], rec["time"],
                rec.get("api")) ==
               (f["status"], f["code"], f["message"], f["request_id"],
                f["time_ms"], f["api"]), "jsonl record %d" % k)
        _check(type(rec["time"]) is int, "jsonl: time not an integer")
        _check(f["body_status"] == f["status"], "jsonl body_status")
    times = [f["time_ms"] for f in facts]
    _check(times == sorted(times), "jsonl: not in time order")


def self_check():
    scenario = {
        "start": "2026-12-03T09:00:00Z", "duration_s": 600,
        "rate_per_min": 30, "ok_per_error": 2,
        "mix": dict([(r[1], 1) for r in CATALOG] + [("Rejected.New", 0.5)]),
        "spikes": [{"code": "Rejected.Disabled", "at": "2026-12-03T09:05:00Z",
                    "duration_s": 60, "rate_per_min": 200, "api": "Decrypt"}],
    }
    tmp = tempfile.mkdtemp(prefix="kmswatch-gen-")
    try:
        for fmt in ("pb", "http", "jsonl"):
            outs = []
            for _ in range(2):
                o, t = io.BytesIO(), io.StringIO()
                n = generate(scenario, fmt, o, t, seed=7, with_ok=True)
                outs.append((o.getvalue(), t.getvalue()))
            _check(outs[0] == outs[1], fmt + ": not deterministic")
            data, truth = outs[0]
            facts = [json.loads(x) for x in truth.splitlines()]
            errs = [f for f in facts if not f.get("ok")]
            _check(len(errs) == n, "%s: truth has %d errors, wrote %d" % (
                fmt, len(errs), n))
            ids = [f["request_id"] for f in errs]
            _check(len(set(ids)) == len(ids), "duplicate RequestId")
            if fmt == "pb":
                i, k = 0, 0
                while i < len(data):
                    ln, i = _read_varint(data, i)
                    rec = _decode_error(data[i:i + ln])
                    i += ln
                    f = facts[k]
                    k += 1
                    _check((rec["StatusCode"], rec["ErrorCode"],
                            rec["ErrorMessage"], rec["RequestId"]) ==
                           (f["status"], f["code"], f["message"],
                            f["request_id"]), "pb record %d" % k)
                    _check(f["body_status"] == f["status"], "pb body_status")
                _check(k == len(facts), "pb: record count")
            elif fmt == "jsonl":
                _check_jsonl(data, facts)
                # ~200 expected, against ~0.2 from the steady rate
                at = parse_time(scenario["spikes"][0]["at"])
                spike = [f for f in facts if f["code"] == "Rejected.Disabled"
                         and f["api"] == "Decrypt"
                         and at <= f["time_ms"] < at + 60000]
                _check(len(spike) > 100, "jsonl: the spike is missing")
            else:
                msgs = _parse_http(data)
                _check(len(msgs) == len(facts), "http: message count")
                for (req, status, resp, body, ms), f in zip(msgs, facts):
                    _check(ms == f["time_ms"], "http time")
                    _check(req["x-kms-apiname"] == f["api"], "http api")
                    if f.get("ok"):
                        _check(status == 200, "ok status")
                        continue
                    rec = _decode_error(body)
                    _check((status, rec["StatusCode"], rec["ErrorCode"],
                            rec["ErrorMessage"], rec["RequestId"]) ==
                           (f["status"], f["body_status"], f["code"],
                            f["message"], f["request_id"]), "http record")
                    _check(f["body_status"] in (0, f["status"]),
                           "body_status")
                times = [f["time_ms"] for f in facts]
                _check(times == sorted(times), "http: not in time order")
            print("self-check %s: %d error records, %d bytes ok"
                  % (fmt, n, len(data)))
        # the file path, through main()
        p = os.path.join(tmp, "x.pb")
        sp = os.path.join(tmp, "s.json")
        with open(sp, "w") as f:
            json.dump(scenario, f)
        main(["--scenario", sp, "--format", "pb", "--out", p,
              "--count", "1000"])
        _check(os.path.getsize(p) > 0, "main wrote nothing")
        # jsonl --count, past one chunk: even times, the truth agrees
        p, tp = os.path.join(tmp, "x.jsonl"), os.path.join(tmp, "x.truth")
        n = _CHUNK + 1001
        main(["--scenario", sp, "--format", "jsonl", "--out", p, "--truth",
              tp, "--count", str(n), "--start", "2026-11-01T00:00:00Z",
              "--duration", "2592000"])
        with open(tp, encoding="utf-8") as f:
            facts = [json.loads(x) for x in f]
        with open(p, "rb") as f:
            _check_jsonl(f.read(), facts)
        _check([f["time_ms"] for f in facts] ==
               even_times(parse_time("2026-11-01T00:00:00Z"),
                          2592000 * 1000, n), "jsonl --count: times")
        print("self-check jsonl --count: %d records ok" % n)
    finally:
        for name in os.listdir(tmp):
            os.unlink(os.path.join(tmp, name))
        os.rmdir(tmp)
    print("self-check passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
