"""The network face of the daemon, and secrets in messages.

Covers: listening beyond loopback is refused without a token or
--insecure-listen; with a token, the API answers 401 without it or with a
wrong one, and the token never reaches the log; /healthz stays open; TLS
with a self-signed certificate; AccessKey IDs masked in what the API shows
(on by default) and, when asked, in what is stored.
"""
import shutil
import ssl
import subprocess
import time
import urllib.error
import urllib.request

import pytest

from conftest import BINARY, encode_error, free_port, http_exchange

TOKEN = "s3cret-token-Zq81"
KEY_ID = "LTAI5tSecretKeyId42"
MSG = 'The AccessKey ID "%s" does not exist in our records.' % KEY_ID


def get(url, token=None, context=None):
    req = urllib.request.Request(url)
    if token is not None:
        req.add_header("Authorization", "Bearer " + token)
    try:
        with urllib.request.urlopen(req, timeout=10, context=context) as r:
            return r.status, r.headers, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()


def test_beyond_loopback_needs_a_token(kmswatch, tmp_path):
    res = kmswatch("serve", "--db", tmp_path / "x.db", "--listen",
                   "0.0.0.0:0")
    assert res.rc == 2
    assert "token" in res.stderr and "--insecure-listen" in res.stderr


def test_insecure_listen_is_allowed_when_asked(make_daemon, tmp_path):
    d = make_daemon(tmp_path / "x.db", "--insecure-listen")
    assert d.client.get("/healthz")[0] == 200


@pytest.fixture
def tokened(make_daemon, tmp_path):
    path = tmp_path / "token"
    path.write_text(TOKEN + "\n")
    return make_daemon(tmp_path / "t.db", "--token-file", str(path))


def test_token_is_asked_and_checked(tokened):
    base = tokened.client.base
    status, headers, _ = get(base + "/api/v1/stats")
    assert status == 401 and headers["WWW-Authenticate"] == "Bearer"
    assert get(base + "/api/v1/stats", token="wrong")[0] == 401
    assert get(base + "/api/v1/stats", token=TOKEN[:-1])[0] == 401
    assert get(base + "/api/v1/stats", token=TOKEN)[0] == 200
    assert get(base + "/metrics", token=TOKEN)[0] == 200
    assert get(base + "/healthz")[0] == 200
    assert TOKEN not in tokened.stderr()


@pytest.mark.skipif(shutil.which("openssl") is None,
                    reason="openssl is not installed")
def test_tls(tmp_path):
    """The conftest daemon waits on plain HTTP, so this one is by hand."""
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048",
                    "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
                    "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True)
    cfg = tmp_path / "tls.ini"
    cfg.write_text("[server]\ntls_cert = %s\ntls_key = %s\n" % (cert, key))
    port = free_port()
    proc = subprocess.Popen([str(BINARY), "serve", "--db",
                             str(tmp_path / "tls.db"), "--config", str(cfg),
                             "--listen", "127.0.0.1:%d" % port],
                            stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    ctx = ssl.create_default_context(cafile=str(cert))
    ctx.check_hostname = False
    url = "https://127.0.0.1:%d/healthz" % port
    try:
        status, body = None, b""
        for _ in range(100):
            try:
                status, _, body = get(url, context=ctx)
                break
            except (OSError, urllib.error.URLError):
                time.sleep(0.05)
        assert status == 200 and b'"ok"' in body
        # Plain HTTP on the same port gets no answer.
        with pytest.raises((OSError, urllib.error.URLError)):
            get("http://127.0.0.1:%d/healthz" % port)
    finally:
        proc.terminate()
        proc.wait(10)


def ingest_unauthorized(kmswatch, tmp_path, db, *args):
    cap = tmp_path / "ak.http"
    cap.write_bytes(http_exchange("Decrypt", 404, encode_error(
        0, "Unauthorized", MSG, "MASK-0001-AAAA")))
    assert kmswatch("ingest", "--db", db, *args, cap).rc == 0


def test_api_masks_access_key_ids_by_default(kmswatch, make_daemon,
                                             tmp_path):
    db = tmp_path / "m.db"
    ingest_unauthorized(kmswatch, tmp_path, db)
    d = make_daemon(db)
    status, _, rec = d.client.get("/api/v1/requests/MASK-0001-AAAA")
    assert status == 200
    assert KEY_ID not in rec["message"]
    assert '"L' + "*" * (len(KEY_ID) - 2) + '2"' in rec["message"]
    assert rec["known"] and rec["code"] == "Unauthorized"
    # The database keeps the id; the command line shows it.
    out = kmswatch("lookup", "--db", db, "MASK-0001-AAAA").stdout
    assert KEY_ID in out


def test_masking_can_be_turned_off_for_the_api(kmswatch, make_daemon,
                                               tmp_path):
    db = tmp_path / "m.db"
    ingest_unauthorized(kmswatch, tmp_path, db)
    cfg = tmp_path / "nomask.ini"
    cfg.write_text("[server]\nmask_access_keys = false\n")
    d = make_daemon(db, "--config", str(cfg))
    assert KEY_ID in d.client.get("/api/v1/requests/MASK-0001-AAAA")[2][
        "message"]


def test_ingest_can_mask_what_it_stores(kmswatch, tmp_path):
    db = tmp_path / "s.db"
    ingest_unauthorized(kmswatch, tmp_path, db, "--mask-access-keys")
    out = kmswatch("lookup", "--db", db, "MASK-0001-AAAA").stdout
    assert KEY_ID not in out and "L" + "*" * (len(KEY_ID) - 2) + "2" in out
