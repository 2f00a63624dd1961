"""test_alerts_backtest.py - `kmswatch alerts`, end to end on a real capture.

Covers: the backtest (`alerts --backtest --from --to`, JSON and text) of a
capture generated from tests/scenarios/spike.json (a 10-minute burst of
Rejected.Disabled at 300 a minute over a steady mix) and ingested with
`kmswatch ingest`: the burst makes one episode that fires within two
windows of its start, with the peak the truth file gives and a small
baseline, and every other episode is explained by the truth; the live
view (`alerts`, `--state all`) of a capture shifted to end now: the burst
is a firing alert whose start survives a second run; usage errors.

Skipped while build/kmswatch has no `alerts` command.
"""

import json
import subprocess
import sys
import time

import pytest

from conftest import (BINARY, GEN, MINUTE_MS, REPO, parse_rfc3339_ms,
                      rfc3339_s, run_kmswatch)

SPIKE = REPO / "tests" / "scenarios" / "spike.json"
WINDOW_MS = 5 * MINUTE_MS       # the default rules' window
RESOLVE_MS = 10 * MINUTE_MS     # key-disabled's resolve delay


def _has_alerts_command():
    if not BINARY.is_file():
        return False
    p = subprocess.run([str(BINARY), "alerts", "--help"],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=30)
    return p.returncode == 0 and p.stdout.startswith(b"Usage: kmswatch alerts")


pytestmark = pytest.mark.skipif(not _has_alerts_command(),
                                reason="build/kmswatch has no alerts command")


def load_scenario():
    with open(SPIKE, encoding="utf-8") as f:
        return json.load(f)


def gen_capture(out, truth, start=None, duration=None):
    cmd = [sys.executable, str(GEN), "--scenario", str(SPIKE), "--format",
           "http", "--with-ok", "--out", str(out), "--truth", str(truth)]
    if start is not None:
        cmd += ["--start", str(start), "--duration", str(duration)]
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=120)
    assert p.returncode == 0, p.stderr.decode()
    with open(truth, encoding="utf-8") as f:
        return [json.loads(line) for line in f if '"ok"' not in line]


def ingest(db, capture):
    res = run_kmswatch("ingest", "--db", db, capture)
    assert res.rc == 0, res


def window_peak(records, code):
    """The largest count of code in 5 whole minutes, as the rollups see."""
    per_min = {}
    for r in records:
        if r["code"] == code:
            m = r["time_ms"] // MINUTE_MS
            per_min[m] = per_min.get(m, 0) + 1
    return max(sum(per_min.get(m - k, 0) for k in range(5))
               for m in per_min)


class Spike:
    """The spike scenario, ingested; its burst and truth."""

    def __init__(self, db, records):
        sc = load_scenario()
        burst = sc["spikes"][0]
        self.db = db
        self.records = records
        self.code = burst["code"]
        self.start_ms = parse_rfc3339_ms(burst["at"].replace("Z", ".000Z"))
        self.end_ms = self.start_ms + burst["duration_s"] * 1000
        self.rate = burst["rate_per_min"]
        self.steady = sc["rate_per_min"] * sc["mix"][self.code]
        t0 = parse_rfc3339_ms(sc["start"].replace("Z", ".000Z"))
        self.from_arg = rfc3339_s(t0)
        self.to_arg = rfc3339_s(t0 + sc["duration_s"] * 1000)


@pytest.fixture(scope="module")
def spike(tmp_path_factory):
    d = tmp_path_factory.mktemp("alerts")
    records = gen_capture(d / "spike.http", d / "spike.truth")
    ingest(d / "k.db", d / "spike.http")
    return Spike(d / "k.db", records)


@pytest.fixture(scope="module")
def backtest(spike):
    res = run_kmswatch("alerts", "--db", spike.db, "--backtest", "--from",
                       spike.from_arg, "--to", spike.to_arg, "--json")
    assert res.rc == 0, res
    return res.json()


def test_backtest_finds_the_burst(spike, backtest):
    eps = [e for e in backtest["episodes"]
           if e["rule"] == "key-disabled" and e["code"] == spike.code]
    assert len(eps) == 1, backtest
    e = eps[0]
    fired = parse_rfc3339_ms(e["fired_at"])
    assert spike.start_ms <= fired <= spike.start_ms + 2 * WINDOW_MS, e
    assert parse_rfc3339_ms(e["started_at"]) <= fired
    resolved = parse_rfc3339_ms(e["resolved_at"])
    assert spike.end_ms <= resolved <= (spike.end_ms + WINDOW_MS +
                                        RESOLVE_MS + 2 * MINUTE_MS), e
    assert e["severity"] == "critical"
    assert e["peak"] == window_peak(spike.records, spike.code)
    assert e["baseline"] <= 3 * 5 * spike.steady, e
    assert "Re-enable the key" in e["summary"]


def pending_deletion_at(records, ms):
    """Whether a Rejected.PendingDeletion record lies in the window that
    ends with the minute of ms."""
    m = ms // MINUTE_MS
    return any(r["code"] == "Rejected.PendingDeletion" and
               m - 4 <= r["time_ms"] // MINUTE_MS <= m for r in records)


def test_backtest_has_no_unexplained_episode(spike, backtest):
    for e in backtest["episodes"]:
        start = parse_rfc3339_ms(e["started_at"])
        if e["code"] == spike.code:
            assert spike.start_ms <= start <= spike.end_ms + WINDOW_MS, e
        elif e["rule"] == "pending-deletion":
            # One call to a key pending deletion pages, by design.
            assert pending_deletion_at(spike.records, start), e
        else:
            pytest.fail("episode the truth does not explain: %r" % (e,))


def test_backtest_json_shape(spike, backtest):
    assert set(backtest) >= {"from", "to", "episodes"}
    assert parse_rfc3339_ms(backtest["from"]) == \
        parse_rfc3339_ms(spike.from_arg.replace("Z", ".000Z"))
    for e in backtest["episodes"]:
        assert set(e) >= {"rule", "code", "severity", "started_at",
                          "resolved_at", "peak", "baseline"}
        for k in ("started_at", "fired_at", "resolved_at"):
            if e.get(k) is not None:
                parse_rfc3339_ms(e[k])


def test_backtest_text(spike):
    res = run_kmswatch("alerts", "--db", spike.db, "--backtest", "--from",
                       spike.from_arg, "--to", spike.to_arg)
    assert res.rc == 0, res
    assert res.stdout.startswith("rule ")
    assert "key-disabled" in res.stdout and spike.code in res.stdout


def test_backtest_outside_the_data_is_empty(spike):
    res = run_kmswatch("alerts", "--db", spike.db, "--backtest", "--from",
                       "2026-11-01T00:00:00Z", "--to",
                       "2026-11-02T00:00:00Z", "--json")
    assert res.rc == 0, res
    assert res.json()["episodes"] == []


@pytest.mark.parametrize("args,rc", [
    (["--backtest", "--from", "2026-12-03T09:00:00Z"], 2),
    (["--backtest", "--to", "2026-12-03T09:00:00Z"], 2),
    (["--backtest", "--from", "2026-12-03T10:00:00Z", "--to",
      "2026-12-03T09:00:00Z"], 2),
    (["--backtest", "--from", "2026-10-01T00:00:00Z", "--to",
      "2026-12-03T00:00:00Z"], 2),
    (["--from", "yesterday"], 2),
    (["--state", "burning"], 2),
    (["--bogus"], 2),
    (["extra"], 2),
], ids=lambda a: " ".join(a) if isinstance(a, list) else str(a))
def test_usage_errors(spike, args, rc):
    res = run_kmswatch("alerts", "--db", spike.db, *args)
    assert res.rc == rc, res
    assert "kmswatch alerts" in res.stderr


def test_missing_database_fails(tmp_path):
    res = run_kmswatch("alerts", "--db", tmp_path / "none.db")
    assert res.rc == 3, res
    assert not (tmp_path / "none.db").exists()


def test_live_alert_fires_and_survives(tmp_path):
    """The spike scenario shifted to end now: its burst, ten minutes ago,
    is a firing alert, and a second run keeps its start."""
    sc = load_scenario()
    at = parse_rfc3339_ms(sc["spikes"][0]["at"].replace("Z", ".000Z"))
    lead = (at - parse_rfc3339_ms(sc["start"].replace("Z", ".000Z"))) // 1000
    now = int(time.time()) // 60 * 60
    start = now - lead - 10 * 60
    gen_capture(tmp_path / "live.http", tmp_path / "live.truth",
                start=start, duration=lead + 10 * 60)
    ingest(tmp_path / "k.db", tmp_path / "live.http")

    first = run_kmswatch("alerts", "--db", tmp_path / "k.db", "--json")
    assert first.rc == 0, first
    alerts = [a for a in first.json()["alerts"]
              if a["rule"] == "key-disabled"]
    assert len(alerts) == 1, first.stdout
    a = alerts[0]
    assert a["state"] == "firing"
    burst_ms = (start + lead) * 1000
    assert burst_ms <= parse_rfc3339_ms(a["started_at"]) <= \
        burst_ms + 2 * WINDOW_MS
    assert a["resolved_at"] is None and a["summary"]

    again = run_kmswatch("alerts", "--db", tmp_path / "k.db", "--json")
    b = [x for x in again.json()["alerts"] if x["rule"] == "key-disabled"]
    assert [x["started_at"] for x in b] == [a["started_at"]]

    hist = run_kmswatch("alerts", "--db", tmp_path / "k.db", "--state",
                        "all", "--json")
    assert hist.rc == 0, hist
    assert any(x["rule"] == "key-disabled" for x in hist.json()["alerts"])
    text = run_kmswatch("alerts", "--db", tmp_path / "k.db")
    assert text.rc == 0 and "key-disabled" in text.stdout
