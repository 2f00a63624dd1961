"""GET /metrics: the Prometheus text exposition format.

Covers: the error and response counters equal what the generator wrote;
`promtool check metrics` (Debian's prometheus package) accepts the page;
a real Prometheus, started here, scrapes the daemon and answers a query
with the stored total.
"""
import json
import re
import shutil
import subprocess
import time
import urllib.parse
import urllib.request

import pytest

from conftest import free_port

PROMTOOL = shutil.which("promtool")
PROMETHEUS = shutil.which("prometheus")


def metrics(client):
    with urllib.request.urlopen(client.base + "/metrics", timeout=10) as r:
        assert r.headers["Content-Type"].startswith("text/plain; version=0.0.4")
        return r.read().decode()


def samples(text, name):
    """{labels string: value} of one metric family."""
    out = {}
    for line in text.splitlines():
        m = re.match(r"^%s(\{[^}]*\})? (\S+)$" % re.escape(name), line)
        if m:
            out[m.group(1) or ""] = float(m.group(2))
    return out


def test_error_counters_match_the_truth(daemon, ingested):
    text = metrics(daemon)
    errs = samples(text, "kmswatch_errors_total")
    assert sum(errs.values()) == len(ingested.records)
    for code in {t["code"] for t in ingested.records}:
        want = sum(1 for t in ingested.records if t["code"] == code)
        got = sum(v for k, v in errs.items() if 'code="%s"' % code in k)
        assert got == want, code
    ok = samples(text, "kmswatch_responses_total")
    assert sum(ok.values()) == len(ingested.oks)
    assert samples(text, "kmswatch_records")[""] == len(ingested.records)
    assert samples(text, "process_resident_memory_bytes")[""] > 0


@pytest.mark.skipif(PROMTOOL is None, reason="promtool is not installed "
                    "(Debian's prometheus package; make deps installs it)")
def test_promtool_accepts_the_page(daemon):
    p = subprocess.run([PROMTOOL, "check", "metrics"], input=metrics(daemon),
                       capture_output=True, text=True, timeout=30)
    assert p.returncode == 0, p.stdout + p.stderr


@pytest.mark.skipif(PROMETHEUS is None, reason="prometheus is not installed")
def test_real_prometheus_scrapes_the_daemon(daemon, ingested, tmp_path):
    port = free_port()
    cfg = tmp_path / "prometheus.yml"
    cfg.write_text(
        "global:\n  scrape_interval: 1s\n"
        "scrape_configs:\n  - job_name: kmswatch\n"
        "    static_configs:\n      - targets: ['127.0.0.1:%d']\n"
        % daemon.port)
    proc = subprocess.Popen(
        [PROMETHEUS, "--config.file=%s" % cfg,
         "--storage.tsdb.path=%s" % (tmp_path / "tsdb"),
         "--web.listen-address=127.0.0.1:%d" % port],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        query = urllib.parse.urlencode({"query":
                                        "sum(kmswatch_errors_total)"})
        url = "http://127.0.0.1:%d/api/v1/query?%s" % (port, query)
        value, deadline = None, time.monotonic() + 30
        while value is None and time.monotonic() < deadline:
            time.sleep(0.5)
            try:
                with urllib.request.urlopen(url, timeout=5) as r:
                    doc = json.loads(r.read())
                result = doc["data"]["result"]
                if result:
                    value = float(result[0]["value"][1])
            except OSError:
                pass
        assert value == len(ingested.records)
    finally:
        proc.terminate()
        proc.wait(10)
