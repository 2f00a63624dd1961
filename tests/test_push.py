"""POST /api/v1/ingest (push) and POST /api/v1/requests/lookup.

Covers: push refused unless the config enables it; one protobuf record
with the KMS response headers (time from Date, API from x-kms-apiname);
a pb stream, an http capture and the formats named by ?format= or by
Content-Type; a body over [push] max_body answered 413; a content type
kmswatch does not read answered 415; pushing the same body twice stores
nothing new; lookups of many ids, of ids found in pasted text, and with
context.
"""
import json
import time

import pytest

from conftest import encode_error, http_exchange, varint

MSG = "The request was rejected because the key state is Disabled."


def config(tmp_path, body):
    path = tmp_path / "push.ini"
    path.write_text(body, encoding="utf-8")
    return str(path)


@pytest.fixture
def pushd(make_daemon, tmp_path):
    cfg = config(tmp_path, "[push]\nenabled = true\nmax_body = 4K\n")
    return make_daemon(tmp_path / "push.db", "--config", cfg).client


def post(client, path, data, ctype=None, headers=()):
    import urllib.request
    import urllib.error
    req = urllib.request.Request(client.base + path, data=data,
                                 method="POST")
    if ctype is not None:
        req.add_header("Content-Type", ctype)
    for k, v in headers:
        req.add_header(k, v)
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, json.loads(resp.read() or b"null")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"null")


def test_push_is_off_by_default(make_daemon, tmp_path):
    client = make_daemon(tmp_path / "off.db").client
    status, doc = post(client, "/api/v1/ingest", b"x",
                       "application/x-protobuf")
    assert status == 403
    assert doc["error"]["code"] == "push_disabled"


def test_push_one_record_with_kms_headers(pushd):
    body = encode_error(0, "Rejected.Disabled", MSG, "PUSH-ONE-0001")
    status, doc = post(pushd, "/api/v1/ingest", body,
                       "application/x-protobuf",
                       [("Date", "Thu, 03 Dec 2026 09:30:00 GMT"),
                        ("x-kms-apiname", "Decrypt")])
    assert status == 200, doc
    assert (doc["accepted"], doc["duplicates"], doc["rejected"]) == (1, 0, 0)
    status, _, rec = pushd.get("/api/v1/requests/PUSH-ONE-0001")
    assert status == 200
    assert rec["time"] == "2026-12-03T09:30:00.000Z"
    assert rec["api"] == "Decrypt"
    assert rec["source"] == "push"
    # The same body again stores nothing new.
    status, doc = post(pushd, "/api/v1/ingest", body,
                       "application/x-protobuf")
    assert (doc["accepted"], doc["duplicates"]) == (0, 1)


def test_push_one_bad_record_is_a_reject(pushd):
    status, doc = post(pushd, "/api/v1/ingest", b"\x12\x05ab",
                       "application/x-protobuf")
    assert status == 200
    assert doc["rejected"] == 1 and doc["accepted"] == 0
    assert doc["rejects"][0]["reason"].startswith("truncated")


def test_push_status_parameter(pushd):
    body = encode_error(0, "SignatureNotMatch", "Signature is not matched.",
                        "PUSH-STATUS-01")
    status, doc = post(pushd, "/api/v1/ingest?status=401", body,
                       "application/x-protobuf")
    assert status == 200 and doc["accepted"] == 1
    assert pushd.get("/api/v1/requests/PUSH-STATUS-01")[2]["status"] == 401


@pytest.mark.parametrize("how", ["format", "ctype"])
def test_push_pb_stream(pushd, how):
    ids = ["PUSH-PB-%s-%d" % (how, i) for i in range(3)]
    data = b""
    for rid in ids:
        m = encode_error(409, "Rejected.Disabled", MSG, rid)
        data += varint(len(m)) + m
    if how == "format":
        status, doc = post(pushd, "/api/v1/ingest?format=pb", data,
                           "application/octet-stream")
    else:
        status, doc = post(pushd, "/api/v1/ingest", data,
                           "application/vnd.kmswatch.pb-stream")
    assert status == 200, doc
    assert doc["accepted"] == 3
    for rid in ids:
        assert pushd.get("/api/v1/requests/" + rid)[0] == 200


def test_push_http_capture(pushd):
    body = encode_error(0, "Rejected.Disabled", MSG, "PUSH-HTTP-01")
    data = (http_exchange("Encrypt", 200, b"\x0a\x01x")
            + http_exchange("Sign", 409, body))
    status, doc = post(pushd, "/api/v1/ingest?source=proxy-7", data,
                       "message/http")
    assert status == 200, doc
    assert doc["accepted"] == 1 and doc["responses"] == 1
    status, _, rec = pushd.get("/api/v1/requests/PUSH-HTTP-01")
    assert rec["api"] == "Sign" and rec["source"] == "proxy-7"


def test_push_over_max_body_is_413(pushd):
    status, doc = post(pushd, "/api/v1/ingest?format=pb", b"\x00" * 5000,
                       "application/octet-stream")
    assert status == 413
    assert doc["error"]["code"] == "too_large"


def test_push_wrong_content_type_is_415(pushd):
    status, doc = post(pushd, "/api/v1/ingest", b"<xml/>",
                       "application/xml")
    assert status == 415
    assert "application/xml" in doc["error"]["message"]


def test_push_bad_format_parameter_is_400(pushd):
    status, doc = post(pushd, "/api/v1/ingest?format=csv", b"x",
                       "text/plain")
    assert status == 400 and "format" in doc["error"]["message"]


def test_get_on_push_is_405(pushd):
    status, headers, doc = pushd.get("/api/v1/ingest")
    assert status == 405
    assert headers["Allow"] == "POST"


def store_some(client, ids, api="Decrypt"):
    data = b""
    for i, rid in enumerate(ids):
        date = time.strftime("%a, %d %b %Y %H:%M:%S GMT",
                             time.gmtime(1796288400 + 30 * i))
        data += http_exchange(api, 409, encode_error(
            0, "Rejected.Disabled", MSG, rid), date=date)
    status, doc = post(client, "/api/v1/ingest", data, "message/http")
    assert status == 200 and doc["accepted"] == len(ids)


def test_lookup_many_ids_with_context(pushd):
    ids = ["LOOK-%02d-7F3A" % i for i in range(6)]
    store_some(pushd, ids)
    status, doc = post(pushd, "/api/v1/requests/lookup", json.dumps(
        {"request_ids": [ids[0], "NOT-THERE-0001"], "context": True}
    ).encode(), "application/json")
    assert status == 200, doc
    first, absent = doc["results"]
    assert first["found"] and first["record"]["request_id"] == ids[0]
    # Records 30 s apart: the other five lie within 5 minutes.
    assert sorted(c["request_id"] for c in first["context"]) == ids[1:]
    assert absent == {"request_id": "NOT-THERE-0001", "found": False}


def test_lookup_ids_found_in_pasted_text(pushd):
    ids = ["TEXT-%02d-9B1C" % i for i in range(2)]
    store_some(pushd, ids)
    text = "Customer says calls failed (ids %s, %s) around 9:00." % tuple(ids)
    status, doc = post(pushd, "/api/v1/requests/lookup", json.dumps(
        {"text": text}).encode(), "application/json")
    assert status == 200
    assert [r["request_id"] for r in doc["results"]] == ids
    assert all(r["found"] and "context" not in r for r in doc["results"])


def test_lookup_bad_body_is_400(pushd):
    status, doc = post(pushd, "/api/v1/requests/lookup", b"[1,2",
                       "application/json")
    assert status == 400 and doc["error"]["code"] == "bad_body"


def test_get_one_request_with_context(pushd):
    ids = ["CTXG-%02d-4E2D" % i for i in range(4)]
    store_some(pushd, ids)
    status, _, doc = pushd.get("/api/v1/requests/%s?context=1" % ids[1])
    assert status == 200
    assert sorted(c["request_id"] for c in doc["context"]) == sorted(
        ids[:1] + ids[2:])
    status, _, doc = pushd.get("/api/v1/requests/" + ids[1])
    assert "context" not in doc
    assert pushd.get("/api/v1/requests/%s?context=yes" % ids[1])[0] == 400


def test_api_name_that_is_not_utf8_is_cleaned(pushd):
    """Found by the API fuzzer: a raw byte in x-kms-apiname once broke
    stats by API (Jansson refuses it) and the Prometheus labels."""
    body = encode_error(0, "Rejected.Disabled", MSG, "UTF8-0001-AAAA")
    status, doc = post(pushd, "/api/v1/ingest", body,
                       "application/x-protobuf",
                       [("x-kms-apiname", "Dec\xffrypt")])
    assert status == 200 and doc["accepted"] == 1
    status, _, stats = pushd.get("/api/v1/stats?by=api")
    assert status == 200
    assert [g["key"] for g in stats["groups"]] == ["Dec?rypt"]
    import urllib.request
    with urllib.request.urlopen(pushd.base + "/metrics", timeout=10) as r:
        text = r.read()
    text.decode("utf-8")                    # a scrape Prometheus accepts
    assert b'api="Dec?rypt"' in text
