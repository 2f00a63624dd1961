"""test_gen.py - the capture generator itself, and its jsonl output.

Covers: `gen.py --self-check`; that pb --count, though written in chunks,
gives the output of drawing every index at once (as it used to); that a
jsonl --count capture over a month goes into `kmswatch ingest` whole, with
`stats` by code and by API agreeing with the truth and a sample of records
matching it in `lookup`; and a jsonl capture of the scenario's own plan
(spikes included) piped to `kmswatch ingest -`.
"""

import importlib.util
import io
import json
import random
import subprocess
import sys

from conftest import (GEN, REPO, count_by, lookup_records,
                      parse_rfc3339_ms, run_kmswatch)

SPIKE_SCENARIO = REPO / "tests" / "scenarios" / "spike.json"
BASIC_SCENARIO = REPO / "tests" / "scenarios" / "basic.json"
JSONL_COUNT = 20000
SAMPLE_SIZE = 50
GEN_TIMEOUT_S = 120


def load_gen():
    spec = importlib.util.spec_from_file_location("kmswatch_gen", GEN)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def run_gen(*args):
    p = subprocess.run([sys.executable, str(GEN)] + [str(a) for a in args],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=GEN_TIMEOUT_S)
    assert p.returncode == 0, "gen.py failed: %s" % p.stderr.decode()
    return p.stdout


def read_truth(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f]


def stats(db, by):
    res = run_kmswatch("stats", "--db", db, "--by", by, "--json")
    assert res.rc == 0, res
    return {g["key"]: g["count"] for g in res.json()["groups"]}


def test_self_check():
    out = run_gen("--self-check")
    assert b"self-check passed" in out


def test_pb_count_stream_is_unchunked():
    """pb --count draws all indices before the first RequestId, as it did
    before it worked in chunks; whatever the chunk size, the output is
    that of one choices() call for them all."""
    gen = load_gen()
    with open(BASIC_SCENARIO, encoding="utf-8") as f:
        scenario = json.load(f)
    count, seed = 1000, 5

    def capture(chunk):
        gen._CHUNK = chunk
        o, t = io.BytesIO(), io.StringIO()
        assert gen.generate(scenario, "pb", o, t, seed=seed,
                            count=count) == count
        return o.getvalue(), t.getvalue()

    # the old way, spelt out
    rng = random.Random(seed)
    variants, weights, _ = gen.build_variants(scenario, gen.make_pools(rng))
    mix_idx = [i for i, w in enumerate(weights) if w > 0]
    indices = rng.choices(mix_idx, k=count, cum_weights=gen.cumulative(
        [weights[i] for i in mix_idx]))
    o, t = io.BytesIO(), io.StringIO()
    gen.write_pb([indices], variants, rng, o, t)
    assert capture(65536) == capture(7) == (o.getvalue(), t.getvalue())


def test_jsonl_count_ingests_whole(tmp_path):
    cap, truth_path = tmp_path / "x.jsonl", tmp_path / "x.truth"
    db = tmp_path / "x.db"
    run_gen("--scenario", BASIC_SCENARIO, "--format", "jsonl", "--out", cap,
            "--truth", truth_path, "--count", JSONL_COUNT, "--seed", 31,
            "--start", "2026-11-01T00:00:00Z", "--duration", 30 * 86400)
    truth = read_truth(truth_path)
    assert len(truth) == JSONL_COUNT
    times = [t["time_ms"] for t in truth]
    assert times == sorted(times)
    res = run_kmswatch("ingest", "--json", "--db", db, cap)
    assert res.rc == 0, res
    s = res.json()
    assert (s["accepted"], s["rejected"]) == (JSONL_COUNT, 0), s
    assert stats(db, "code") == count_by(truth, lambda t: t["code"])
    assert stats(db, "api") == count_by(truth, lambda t: t["api"])
    sample = random.Random(31).sample(truth, SAMPLE_SIZE)
    rc, recs = lookup_records(db, [t["request_id"] for t in sample])
    assert rc == 0
    for t in sample:
        rec = recs[t["request_id"]]
        assert (rec["code"], rec["status"], rec["message"], rec["api"]) == \
            (t["code"], t["status"], t["message"], t["api"]), rec
        assert parse_rfc3339_ms(rec["time"]) == t["time_ms"], rec


def test_jsonl_plan_through_stdin(tmp_path):
    truth_path, db = tmp_path / "s.truth", tmp_path / "s.db"
    data = run_gen("--scenario", SPIKE_SCENARIO, "--format", "jsonl",
                   "--out", "-", "--truth", truth_path)
    truth = read_truth(truth_path)
    res = run_kmswatch("ingest", "--json", "--format", "jsonl", "--db", db,
                       "-", input=data)
    assert res.rc == 0, res
    s = res.json()
    assert (s["accepted"], s["rejected"]) == (len(truth), 0), s
    assert stats(db, "code") == count_by(truth, lambda t: t["code"])
