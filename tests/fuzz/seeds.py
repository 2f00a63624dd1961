#!/usr/bin/env python3
"""seeds.py - writes the seed corpus of the fuzz targets, tests/fuzz/corpus/.

    python3 tests/fuzz/seeds.py [OUT]      (OUT defaults to tests/fuzz/corpus)

The corpus is committed; this script says where each file came from and
rewrites them all, identically, when run again.  The pb and http streams
come from tests/gen.py with fixed seeds; the rest is written here, one
small file per shape each parser reads (see the comments at the top of
parsers/*.c), plus a few that are cut short or bent, so that the fuzzer
starts next to the edges.  Every file is small: libFuzzer mutates small
inputs faster, and the whole corpus stays far under 200 KB.
"""

import base64
import gzip
import json
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
GEN = REPO / "tests" / "gen.py"
SCENARIO = REPO / "tests" / "scenarios" / "basic.json"

DATE = "Thu, 03 Dec 2026 09:00:00 GMT"
ISO = "2026-12-03T09:00:00.250Z"


def varint(n):
    out = bytearray()
    while n > 0x7F:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def error_pb(status, code, message, request_id):
    """An api.Error (proto/kms_error.proto) as proto3 encodes it."""
    def text(tag, s):
        b = s.encode()
        return bytes((tag,)) + varint(len(b)) + b if b else b""
    head = b"\x08" + varint(status) if status else b""
    return (head + text(0x12, code) + text(0x1a, message)
            + text(0x22, request_id))


def frame(msg):
    return varint(len(msg)) + msg


THROTTLED = error_pb(429, "Rejected.Throttling", "Too many requests.",
                     "5B0C2A44-1F3E-4E49-9E2B-000000000001")
DISABLED = error_pb(409, "Rejected.Disabled", "Key is Disabled.",
                    "5B0C2A44-1F3E-4E49-9E2B-000000000002")
NOT_FOUND = error_pb(404, "Forbidden.KeyNotFound", "The key is not found.",
                     "5B0C2A44-1F3E-4E49-9E2B-000000000003")


def generated(fmt, seed, count, with_ok=False):
    with tempfile.TemporaryDirectory() as d:
        out, truth = Path(d) / ("x." + fmt), Path(d) / "x.truth"
        cmd = [sys.executable, str(GEN), "--scenario", str(SCENARIO),
               "--format", fmt, "--out", str(out), "--truth", str(truth),
               "--seed", str(seed), "--count", str(count)]
        if with_ok:
            cmd.append("--with-ok")
        subprocess.run(cmd, check=True)
        return out.read_bytes()


def request(api):
    return ("POST / HTTP/1.1\r\nHost: kst-1.cryptoservice.kms.aliyuncs.com"
            "\r\nx-kms-apiname: %s\r\ncontent-length: 0\r\n\r\n"
            % api).encode()


def response(status, body, extra="", date=DATE):
    head = ("HTTP/1.1 %d Whatever\r\nDate: %s\r\n"
            "Content-Type: application/x-protobuf\r\n%s" % (status, date,
                                                           extra))
    if "chunked" in extra:
        return (head + "\r\n").encode() + b"%x\r\n" % len(body) + body + \
            b"\r\n0\r\n\r\n"
    return (head + "Content-Length: %d\r\n\r\n" % len(body)).encode() + body


def gz(data):
    return gzip.compress(data, mtime=0)


def pb_seeds():
    stream = frame(THROTTLED) + frame(DISABLED)
    return {
        "generated.pb": generated("pb", 1, 5),
        "two.pb": stream,
        "truncated.pb": stream[:-7],
        "no_code.pb": frame(b"\x08\x91\x03"),
        "bad_varint.pb": b"\xff" * 11 + frame(NOT_FOUND),
        "wire_type.pb": frame(b"\x15abcd" + THROTTLED),
        "bad_utf8.pb": frame(b"\x12\x03\xc3\x28x\x22\x01r"),
    }


def http_seeds():
    return {
        "generated.http": generated("http", 2, 2, with_ok=True),
        "exchange.http": request("Decrypt") + response(404, NOT_FOUND),
        "ok.http": request("Encrypt") + response(200, b""),
        "chunked.http": request("Sign") + response(
            429, THROTTLED, "Transfer-Encoding: chunked\r\n"),
        "gzip.http": request("Encrypt") + response(
            409, gz(DISABLED), "Content-Encoding: gzip\r\n"),
        "bad_date.http": response(409, DISABLED, date="yesterday"),
        "curl.http": response(429, THROTTLED) + response(404, NOT_FOUND),
        "cut.http": (request("Decrypt") + response(404, NOT_FOUND))[:-9],
    }


def har_entry(status, body, mime="application/x-protobuf", b64=True,
              api="Encrypt"):
    content = {"size": len(body), "mimeType": mime}
    if b64:
        content.update(text=base64.b64encode(body).decode(),
                       encoding="base64")
    else:
        content["text"] = body.decode()
    return {
        "startedDateTime": ISO,
        "request": {"method": "POST", "url": "https://kst-1/",
                    "headers": [{"name": "x-kms-apiname", "value": api}]},
        "response": {"status": status, "headers": [], "content": content},
    }


def har_seeds():
    def doc(entries):
        return json.dumps({"log": {"version": "1.2", "creator": {
            "name": "seeds.py", "version": "1"}, "entries": entries}},
            indent=1).encode()
    entries = [har_entry(429, THROTTLED), har_entry(200, b""),
               har_entry(409, DISABLED, api="Decrypt"),
               har_entry(404, b"not protobuf", mime="text/plain",
                         b64=False)]
    return {
        "entries.har": doc(entries),
        "empty.har": doc([]),
        "no_response.har": doc([{"startedDateTime": ISO, "request": {}}]),
        "cut.har": doc(entries)[:700],
    }


def jsonl_seeds():
    camel = {"StatusCode": 429, "ErrorCode": "Rejected.Throttling",
             "ErrorMessage": "Too many requests.", "RequestId": "j-1",
             "time": ISO, "api": "Encrypt", "status": 429}
    snake = {"status_code": "409", "error_code": "Rejected.Disabled",
             "error_message": "Key is Disabled.", "request_id": "j-2",
             "time": 1796288400123}
    body = {"body": base64.b64encode(NOT_FOUND).decode(),
            "time": 1796288400, "status": 404}
    lines = [json.dumps(x).encode() for x in (camel, snake, body)]
    return {
        "forms.jsonl": b"\n".join(lines) + b"\n",
        "bom_crlf.jsonl": b"\xef\xbb\xbf" + b"\r\n\r\n".join(lines),
        "bad.jsonl": lines[0] + b"\n{\"ErrorCode\": 7}\n[1,2]\n{\"body\":"
                     b"\"!!\"}\n" + lines[1][:20],
        # The edges of jsonscan.c, the flat-object fast path: escapes,
        # surrogates, raw UTF-8, numbers, duplicates, nested values.
        "scanner.jsonl": b"\n".join([
            b'{"ErrorCode":"A.B","ErrorMessage":"q\\"\\\\\\/\\b\\f\\n\\r\\t'
            b'\\u00e9\\uD83D\\uDE00\xc3\xa9\xf0\x9f\x98\x80"}',
            b' { "Error\\u0043ode" : "A.B" ,\t"time" : 1.7962884E+9 } ',
            b'{"ErrorCode":null,"error_code":"C.D","StatusCode":-0,'
            b'"StatusCode":"0409","x":[{"y":null}],"z":true}',
            b'{"ErrorCode":"A","time":123456789012345678,"n":1e-400}',
            b'{"ErrorCode":"A","m":"\\ud83d","n":0123,"o":1e400}',
        ]) + b"\n",
    }


GO_BLOCK = (b"%s call failed: SDKError:\n   StatusCode: 0\n"
            b"   Code: Rejected.Disabled\n   Message: Key is Disabled.\n"
            b"   Data: {\"hostId\":null,\"httpCode\":409,"
            b"\"requestId\":\"g-1\"}\n")
PY_LINE = (b"%s Error: Rejected.Throttling Too many requests. Response: "
           b"{'httpCode': 429, 'requestId': 'p-1', 'hostId': None}\n")
JAVA_BLOCK = (b"%s code: Forbidden.KeyNotFound\nmessage: The key is not "
              b"found.\nrequestId: j-1\ncom.aliyun.tea.TeaException: The "
              b"key is not found.\n\tat com.example.App.main(App.java:9)\n")


def sdklog_seeds():
    return {
        "go.log": GO_BLOCK % b"2026-12-03T10:00:00.123Z ERROR",
        "python.log": PY_LINE % b"2026-12-03 10:00:00,123 ERROR",
        "java.log": JAVA_BLOCK % b"[2026-12-03 10:00:00.123] [error]",
        "syslog.log": b"2026-01-01T00:00:00Z up\n" + GO_BLOCK %
                      b"Dec  3 10:00:00 host app[42]:",
        "mixed.log": b"2026/12/03 10:00:00 started\nplain text\ncode: 200\n"
                     + PY_LINE % b"2026-12-03T18:00:00+08:00"
                     + (GO_BLOCK % b"2026-12-03T18:00:00.5+0800")[:120],
    }


def gzip_seeds(pb, http, har, jsonl, sdklog):
    return {
        "pb.gz": gz(pb["two.pb"]),
        "http.gz": gz(http["exchange.http"]),
        "har.gz": gz(har["entries.har"]),
        "jsonl.gz": gz(jsonl["forms.jsonl"]),
        "sdklog.gz": gz(sdklog["go.log"]),
        "members.gz": gz(jsonl["forms.jsonl"]) + gz(jsonl["bad.jsonl"]),
        "cut.gz": gz(http["exchange.http"])[:-6],
    }


def api_request(method, target, headers=(), body=b""):
    head = "%s\n%s\n%s\n" % (method, target, "".join(h + "\n"
                                                     for h in headers))
    return head.encode() + body


def api_seeds(jsonl):
    lookup = json.dumps({"request_ids": ["j-1", "fuzz-seed-3"],
                         "context": True}).encode()
    return {
        "healthz": api_request("GET", "/healthz"),
        "errors": api_request("GET", "/api/v1/errors?limit=5&code="
                              "Rejected.Throttling&api=Encrypt"),
        "errors_page": api_request("GET", "/api/v1/errors?code=Rejected."
                                   "Disabled&from=2026-12-03T00:00:00Z&"
                                   "cursor=1796288400000.7"),
        "stats": api_request("GET", "/api/v1/stats?by=api&top=3&"
                             "from=1796288400&to=2026-12-03T18:00:00 08:00"),
        "timeseries": api_request("GET", "/api/v1/timeseries?step=300&"
                                  "code=Rejected.Disabled"),
        "codes": api_request("HEAD", "/api/v1/codes"),
        "request": api_request("GET", "/api/v1/requests/fuzz-seed-1"),
        "metrics": api_request("GET", "/metrics"),
        "static": api_request("GET", "/static/app.js"),
        "escapes": api_request("GET", "/api/v1/errors?code=%zz%4&x=%00"),
        "lookup": api_request("POST", "/api/v1/requests/lookup",
                              ["Content-Type: application/json"], lookup),
        "lookup_text": api_request(
            "POST", "/api/v1/requests/lookup", [],
            b'{"text":"RequestId: fuzz-seed-2 and j-2"}'),
        "push_jsonl": api_request(
            "POST", "/api/v1/ingest?source=fuzz",
            ["Content-Type: application/x-ndjson"], jsonl["forms.jsonl"]),
        "push_one": api_request(
            "POST", "/api/v1/ingest?status=409",
            ["Content-Type: application/x-protobuf", "Date: " + DATE,
             "x-kms-apiname: Decrypt"], DISABLED),
        "push_detect": api_request("POST", "/api/v1/ingest", [],
                                   frame(THROTTLED)),
        "wrong_method": api_request("DELETE", "/api/v1/ingest"),
        # Requests separated by a line "--": store, then ask.
        "push_then_ask": api_request(
            "POST", "/api/v1/ingest?format=pb&source=seq", [],
            frame(NOT_FOUND)) + b"\n--\n" + api_request(
            "GET", "/api/v1/requests/5B0C2A44-1F3E-4E49-9E2B-000000000003")
            + b"\n--\n" + api_request("GET", "/api/v1/stats?by=code"),
    }


def main():
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else HERE / "corpus"
    pb, http, har = pb_seeds(), http_seeds(), har_seeds()
    jsonl, sdklog = jsonl_seeds(), sdklog_seeds()
    sets = {"pb": pb, "http": http, "har": har, "jsonl": jsonl,
            "sdklog": sdklog, "gzip": gzip_seeds(pb, http, har, jsonl,
                                                 sdklog),
            "api": api_seeds(jsonl)}
    total = 0
    for name, files in sets.items():
        d = out / name
        d.mkdir(parents=True, exist_ok=True)
        for fname, data in files.items():
            (d / fname).write_bytes(data)
            total += len(data)
    print("seeds.py: %d files, %d bytes in %s" % (
        sum(len(f) for f in sets.values()), total, out))


if __name__ == "__main__":
    main()
