"""test_delivery.py - alert delivery (daemon/deliver.c), end to end.

Covers: a webhook receiver on loopback gets the document Alertmanager
sends its webhook receivers when a Rejected.PendingDeletion record (which
the default rules page on at once) is ingested, after first answering 500
(so the request is retried), and a "resolved" document when the alert
ends (the daemon restarted with rules that no longer raise it); a real
Alertmanager (Debian's prometheus-alertmanager, started here) lists the
alert with the labels alertname, code, severity and instance, and drops
it once resolved; /metrics counts the deliveries; bad [webhook] and
[alertmanager] sections stop `kmswatch serve`; `promtool check rules`
accepts dashboards/prometheus-rules.yml.

Everything runs on 127.0.0.1; every wait is bounded.
"""

import email.utils
import http.server
import json
import re
import shutil
import subprocess
import threading
import time
import urllib.error
import urllib.request

import pytest

import conftest
from conftest import (BINARY, REPO, encode_error, free_port, http_exchange,
                      run_kmswatch)

ALERTMANAGER = "/usr/bin/prometheus-alertmanager"
PROMTOOL = "/usr/bin/promtool"
RULES_YML = REPO / "dashboards" / "prometheus-rules.yml"

CODE = "Rejected.PendingDeletion"
RULE = "pending-deletion"
MESSAGE = ("The request was rejected because the key state is "
           "PendingDeletion.")
WAIT_S = 15
ZERO_TIME = "0001-01-01T00:00:00Z"

# Rules that do not raise RULE: its firing alert resolves on restart.
OTHER_RULES = """
[rule other]
type = threshold
codes = SignatureNotMatch
severity = warning
"""


def wait_for(pred, timeout=WAIT_S, step=0.1):
    """pred()'s first true value within timeout seconds, else None."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(step)
    return None


class Receiver:
    """A webhook receiver on loopback.  Answers the first `fail` requests
    with 500, then 200; keeps every (status answered, parsed body)."""

    def __init__(self, fail=0):
        self.fail = fail
        self.got = []
        self.lock = threading.Lock()
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                n = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(n)
                with outer.lock:
                    status = 500 if outer.fail > 0 else 200
                    outer.fail -= 1
                    outer.got.append((status, self.path,
                                      self.headers.get("Content-Type"),
                                      json.loads(body)))
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0),
                                                      Handler)
        self.url = "http://127.0.0.1:%d/hook" % self.server.server_port
        self.thread = threading.Thread(target=self.server.serve_forever,
                                       daemon=True)
        self.thread.start()

    def requests(self):
        with self.lock:
            return list(self.got)

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    r = Receiver(fail=1)
    yield r
    r.close()


def pending_deletion_db(tmp_path, name="k.db"):
    """A database holding one Rejected.PendingDeletion record of now."""
    body = encode_error(409, CODE, MESSAGE,
                        "6C7C4E2A-0000-4000-8000-00000000D001")
    date = email.utils.formatdate(time.time(), usegmt=True)
    cap = tmp_path / "pd.http"
    cap.write_bytes(http_exchange("Decrypt", 409, body, date=date))
    db = tmp_path / name
    res = run_kmswatch("ingest", "--db", db, "--format", "http", cap)
    assert res.rc == 0, res
    return db


def restart_on(port, make_daemon, db, *args):
    """make_daemon on the given port (the one a stopped daemon had), so
    that the instance label, and so the alert's identity, stays the same."""
    saved = conftest.free_port
    conftest.free_port = lambda: port
    try:
        return make_daemon(db, *args)
    finally:
        conftest.free_port = saved


def write_config(path, text):
    path.write_text(text, encoding="utf-8")
    return path


def metric(client, name, **labels):
    """The value of one sample of GET /metrics, or None."""
    req = urllib.request.urlopen(client.base + "/metrics", timeout=10)
    text = req.read().decode()
    want = ",".join('%s="%s"' % kv for kv in sorted(labels.items()))
    for line in text.splitlines():
        m = re.fullmatch(r"(\w+)(?:\{(.*)\})? (\S+)", line)
        if m and m.group(1) == name and \
                ",".join(sorted((m.group(2) or "").split(","))) == want:
            return float(m.group(3))
    return None


# ---------------------------------------------------------------------------
# The webhook.

def check_webhook_doc(doc, status, instance):
    assert doc["version"] == "4"
    assert doc["status"] == status
    assert doc["receiver"] == "kmswatch"
    assert doc["groupKey"] == '{}:{alertname="%s"}' % RULE
    assert doc["groupLabels"] == {"alertname": RULE}
    assert doc["externalURL"] == "http://" + instance
    assert len(doc["alerts"]) == 1
    a = doc["alerts"][0]
    assert a["status"] == status
    assert a["labels"] == {"alertname": RULE, "code": CODE,
                           "severity": "critical", "instance": instance}
    assert doc["commonLabels"] == a["labels"]
    assert doc["commonAnnotations"] == a["annotations"]
    assert a["annotations"]["summary"]
    assert a["annotations"]["description"]
    assert re.fullmatch(r"[0-9a-f]{16}", a["fingerprint"])
    assert a["generatorURL"].startswith("http://" + instance)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z",
                        a["startsAt"])
    return a


def test_webhook_firing_with_retry_then_resolved(tmp_path, make_daemon,
                                                 receiver):
    """The first POST is answered 500 and retried after the back-off; the
    payload has Alertmanager's webhook shape; a restart under rules that no
    longer raise the alert sends it resolved, with the same fingerprint."""
    db = pending_deletion_db(tmp_path)
    cfg = write_config(tmp_path / "k.ini",
                       "[webhook]\nurl = %s\ntimeout = 5s\n" % receiver.url)
    d = make_daemon(db, "--config", cfg)
    instance = "127.0.0.1:%d" % d.port

    got = wait_for(lambda: len(receiver.requests()) >= 2 and
                   receiver.requests())
    assert got, "webhook got %r; stderr:\n%s" % (receiver.requests(),
                                                 d.stderr())
    assert [g[0] for g in got[:2]] == [500, 200]
    assert all(g[1] == "/hook" and g[2] == "application/json" for g in got)
    assert got[0][3] == got[1][3], "the retry sent another document"
    fired = check_webhook_doc(got[1][3], "firing", instance)
    assert fired["endsAt"] == ZERO_TIME

    c = d.client
    assert metric(c, "kmswatch_alert_deliveries_total", target="webhook",
                  result="sent") == 1
    assert metric(c, "kmswatch_alert_deliveries_total", target="webhook",
                  result="failed") == 1
    assert metric(c, "kmswatch_alert_deliveries_total", target="webhook",
                  result="retried") == 1
    assert metric(c, "kmswatch_alert_deliveries_total", target="webhook",
                  result="dropped") == 0
    d.assert_stops_cleanly()
    assert "deliver: failed url=http://127.0.0.1" in d.stderr()

    cfg2 = write_config(tmp_path / "k2.ini",
                        cfg.read_text() + OTHER_RULES)
    d2 = restart_on(d.port, make_daemon, db, "--config", cfg2)
    n = len(got)
    more = wait_for(lambda: len(receiver.requests()) > n and
                    receiver.requests()[n:])
    assert more, "no resolved document; stderr:\n%s" % d2.stderr()
    assert more[0][0] == 200
    resolved = check_webhook_doc(more[0][3], "resolved", instance)
    assert resolved["endsAt"] != ZERO_TIME
    assert resolved["startsAt"] == fired["startsAt"]
    assert resolved["fingerprint"] == fired["fingerprint"]
    d2.assert_stops_cleanly()


def test_no_delivery_configured_reports_zero(tmp_path, make_daemon):
    """Without [webhook] or [alertmanager] the family is still there."""
    d = make_daemon(pending_deletion_db(tmp_path))
    for target in ("webhook", "alertmanager"):
        assert metric(d.client, "kmswatch_alert_deliveries_total",
                      target=target, result="sent") == 0
    d.assert_stops_cleanly()


@pytest.mark.parametrize("section,why", [
    ("[webhook]\nurl = ftp://127.0.0.1/x\n", "is not an http"),
    ("[webhook]\nurl = http://127.0.0.1:9/\ntimeout = 0s\n", "timeout"),
    ("[alertmanager]\nurl = http://127.0.0.1:9\nsecret = 1\n",
     "unknown key"),
])
def test_bad_sections_stop_serve(tmp_path, section, why):
    db = pending_deletion_db(tmp_path)
    cfg = write_config(tmp_path / "bad.ini", section)
    p = subprocess.run([str(BINARY), "serve", "--db", str(db), "--config",
                        str(cfg), "--listen", "127.0.0.1:%d" % free_port()],
                       stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=20)
    err = p.stderr.decode()
    assert p.returncode == 3, err
    assert "alert delivery" in err and why in err, err


# ---------------------------------------------------------------------------
# A real Alertmanager.

AM_CONFIG = """
route:
  receiver: blackhole
receivers:
  - name: blackhole
"""


@pytest.fixture
def alertmanager(tmp_path):
    """prometheus-alertmanager on a free loopback port, clustering off;
    yields its base URL."""
    if not shutil.which(ALERTMANAGER):
        pytest.fail("%s is missing: run make deps" % ALERTMANAGER,
                    pytrace=False)
    (tmp_path / "am").mkdir()
    cfg = write_config(tmp_path / "am.yml", AM_CONFIG)
    for _ in range(3):
        port = free_port()
        log = open(tmp_path / "am.log", "wb")
        proc = subprocess.Popen(
            [ALERTMANAGER, "--config.file=%s" % cfg,
             "--storage.path=%s" % (tmp_path / "am"),
             "--web.listen-address=127.0.0.1:%d" % port,
             "--cluster.listen-address="],
            stdin=subprocess.DEVNULL, stdout=log, stderr=log)
        base = "http://127.0.0.1:%d" % port

        def ready():
            if proc.poll() is not None:
                return "exited"
            try:
                with urllib.request.urlopen(base + "/-/ready",
                                            timeout=2) as r:
                    return r.status == 200 and "ready"
            except (OSError, urllib.error.URLError):
                return None

        state = wait_for(ready, timeout=10)
        if state == "ready":
            break
        if proc.poll() is None:
            proc.kill()
        proc.wait()
    else:
        pytest.fail("alertmanager did not start:\n" +
                    (tmp_path / "am.log").read_text("utf-8", "replace"))
    yield base
    proc.terminate()
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    log.close()


def am_alerts(base):
    with urllib.request.urlopen(base + "/api/v2/alerts", timeout=5) as r:
        return [a for a in json.load(r)
                if a["labels"].get("alertname") == RULE]


def test_alertmanager_receives_and_resolves(tmp_path, make_daemon,
                                            alertmanager):
    db = pending_deletion_db(tmp_path)
    # Two URLs in one list: the same Alertmanager, with a trailing slash.
    cfg = write_config(tmp_path / "k.ini", "[alertmanager]\nurl = %s, %s/\n"
                       % (alertmanager, alertmanager))
    d = make_daemon(db, "--config", cfg)
    instance = "127.0.0.1:%d" % d.port

    got = wait_for(lambda: am_alerts(alertmanager))
    assert got, "alertmanager has no %s alert; stderr:\n%s" % (RULE,
                                                              d.stderr())
    assert len(got) == 1, got
    a = got[0]
    assert a["labels"] == {"alertname": RULE, "code": CODE,
                           "severity": "critical", "instance": instance}
    assert a["status"]["state"] == "active"
    assert a["annotations"]["summary"]
    assert a["generatorURL"].startswith("http://" + instance)
    assert wait_for(lambda: metric(d.client,
                                   "kmswatch_alert_deliveries_total",
                                   target="alertmanager",
                                   result="sent") >= 2), d.stderr()
    d.assert_stops_cleanly()

    # Restarted under other rules, the alert resolves and leaves the list.
    cfg2 = write_config(tmp_path / "k2.ini", cfg.read_text() + OTHER_RULES)
    d2 = restart_on(d.port, make_daemon, db, "--config", cfg2)
    assert wait_for(lambda: not am_alerts(alertmanager)), (
        am_alerts(alertmanager), d2.stderr())
    d2.assert_stops_cleanly()


# ---------------------------------------------------------------------------
# The Prometheus rules shipped for central alerting.

def test_prometheus_rules_file_is_valid():
    if not shutil.which(PROMTOOL):
        pytest.fail("%s is missing: run make deps" % PROMTOOL,
                    pytrace=False)
    p = subprocess.run([PROMTOOL, "check", "rules", str(RULES_YML)],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       timeout=20)
    out = p.stdout.decode()
    assert p.returncode == 0, out
    assert re.search(r"SUCCESS: [1-9]\d* rules found", out), out
