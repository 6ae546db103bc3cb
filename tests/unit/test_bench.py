"""The benchmark: its traffic mix, its arithmetic and table (its smoke run: tests/integration/test_bench_smoke.py)."""

from __future__ import annotations

import itertools
from collections import Counter

import orjson
import pytest

from config.settings import Settings
from pipeline.cli.loader import read_updates
from pipeline.domain.pricing import cost_micros, from_micros
from pipeline.sim import oracle
from pipeline.sim.bench import command, latency, report, restore, soak, stats
from pipeline.sim.bench.command import Options
from pipeline.sim.bench.mix import Shares, home, mix
from pipeline.sim.bench.verify import Account, Outputs, slim, verdict
from pipeline.sim.generator import SAMPLE_CORE_DATA
from pipeline.sim.snapshot import Snapshot
from pipeline.sim.traffic import ACCEPTED
from pipeline.state.records import AcceptedBatch, Spend

SETTINGS = Settings()
UPDATES = read_updates(SAMPLE_CORE_DATA)


def records(count: int, shares: Shares = Shares()) -> list:
    return list(itertools.islice(mix("r", UPDATES, 7, shares, SETTINGS), count))


def test_the_mix_numbers_events_in_order_and_has_the_requested_shares() -> None:
    sent = records(20_000)
    assert [r.sent.seq for r in sent] == list(range(20_000))
    expected = Counter(r.sent.item.expected for r in sent)
    assert 0.015 < expected["duplicate"] / 20_000 < 0.025
    rerouted = [r for r in sent if r.sent.item.expected == "accepted" and r.key != r.sent.item.key]
    assert 0.01 < len(rerouted) / 20_000 < 0.03


def test_a_rerouted_event_is_sent_off_its_campaigns_partition_with_no_key_or_a_wrong_key() -> None:
    rerouted = [r for r in records(5000) if r.rerouted]
    assert {r.key is None for r in rerouted} == {True, False}
    for r in rerouted:
        assert r.partition != home(r.sent.item.key, SETTINGS.partitions)
        assert r.key is None or home(r.key, SETTINGS.partitions) == r.partition


def test_a_duplicate_travels_the_way_its_original_did() -> None:
    sent = records(20_000)
    first = {}
    for r in sent:
        if r.sent.item.expected == "duplicate":
            assert (r.key, r.partition) == first[r.value]
        else:
            first.setdefault(r.value, (r.key, r.partition))


def test_a_missing_event_fails_the_verdict() -> None:
    three = records(3, Shares(0, 0, 0))
    snapshot = Snapshot.from_updates(UPDATES)

    def output(event: dict) -> bytes:
        campaign = snapshot.campaigns[event["campaign_id"]]
        cost = from_micros(cost_micros(event["type"], campaign["pricing_model"], campaign["price"]))
        return orjson.dumps({**event, "cost": cost})

    accepted = [({oracle.HEADER: f"r:{r.sent.seq}".encode()}, output(orjson.loads(r.value))) for r in three[:2]]
    outputs = Outputs({"realtime": accepted, "batch": accepted, "rejected": [], "dlq": []})
    found = verdict("r", {r.sent.seq: slim(r.sent) for r in three}, outputs, snapshot)
    assert not found["passed"]
    assert found["missing"] == 1 and found["problems"] == ["#2 (accepted) is missing"]


def test_the_soaks_account_names_each_event_without_an_outcome_and_counts_repeats() -> None:
    account = Account(6)
    for seq in (0, 2, 2, 5, 9):  # 9: beyond the run's events, not counted
        account.mark(seq)
    assert account.figures() == {"events": 6, "answered": 3, "missing": 3, "missing_seqs": [1, 3, 4],
                                 "repeated_outcomes": 1}
    assert account.figures(shown=1)["missing_seqs"] == [1]


def test_the_arithmetic_of_the_figures() -> None:
    assert stats.median([3, 1, 2]) == 2 and stats.median([4, 1, 2, 3]) == 2.5
    assert stats.percentile(list(range(1, 101)), 99) == 99 and stats.percentile([5], 50) == 5
    assert stats.max_gap([0, 10, 11, 40]) == 29 and stats.max_gap([3]) == 0
    assert stats.slope([(0, 1), (1, 3), (2, 5)]) == pytest.approx(2.0)


def test_the_soaks_slopes_use_the_samples_of_steady_traffic_after_the_warm_up() -> None:
    # RSS level during the traffic, then higher while the group drains its last records
    samples = [(float(t), 200.0) for t in range(0, 601, 5)] + [(605.0, 260.0), (610.0, 262.0)]
    steady = soak.steady(samples, 120.0, 600.0)
    assert steady[0] == (2.0, 200.0) and steady[-1] == (10.0, 200.0) and len(steady) == 97
    assert stats.slope(steady) == 0.0
    assert stats.slope(soak.steady(samples, 120.0, 610.0)) > 0.5  # what the drain would have added


def test_the_latency_phase_tells_the_rerouted_events_from_those_sent_home() -> None:
    settings = Settings.from_env()
    records = list(itertools.islice(mix("r", read_updates(SAMPLE_CORE_DATA), 7, Shares(rerouted=0.2), settings), 2000))
    moved = [r for r in records if r.rerouted]
    assert moved and all(r.partition != home(r.sent.item.key, settings.partitions) for r in moved)
    assert all(r.sent.item.expected == ACCEPTED for r in moved)
    stayed = [r for r in records if r.sent.item.expected == ACCEPTED and not r.rerouted]
    assert stayed and all(r.partition == home(r.sent.item.key, settings.partitions) for r in stayed)

    by_path = latency.paths({"a": 10, "b": 20, "c": 300, "d": 40}, rerouted={"c", "x"})
    assert by_path["home"] == {"events": 3, "p50_ms": 20, "p95_ms": 40, "p99_ms": 40, "max_ms": 40}
    assert by_path["rerouted"] == {"events": 1, "p50_ms": 300, "p95_ms": 300, "p99_ms": 300, "max_ms": 300}


def test_a_histograms_quantiles_are_the_bounds_of_the_buckets_that_hold_them() -> None:
    inf = float("inf")
    before = [(0.05, 10), (0.1, 10), (0.25, 10), (inf, 10)]
    after = [(0.05, 60), (0.1, 158), (0.25, 209), (inf, 210)]  # 200 batches in between: 50, 98, 51, 1
    between = stats.bucket_difference(after, before)
    assert between == [(0.05, 50), (0.1, 148), (0.25, 199), (inf, 200)]
    assert stats.bucket_quantile(between, 0.25) == 0.05
    assert stats.bucket_quantile(between, 0.50) == 0.1
    assert stats.bucket_quantile(between, 0.99) == 0.25
    assert stats.bucket_quantile(between, 1.0) == inf
    assert stats.bucket_quantile([(0.05, 0), (inf, 0)], 0.99) == 0.0


def test_restore_lines_are_read_per_partition_the_last_one_winning() -> None:
    log = (b"[2026-01-01 INFO] restored tracking state of tracking.raw[0]: 10 rows in 0.5 s\n"
           b"restored tracking state of tracking.raw[1]: 20 rows in 1.25 s\n"
           b"restored tracking state of tracking.raw[0]: 12 rows in 0.75 s\n")
    assert restore.parse(log) == {0: {"rows": 12, "seconds": 0.75}, 1: {"rows": 20, "seconds": 1.25}}


def test_restore_rows_are_spread_over_the_partitions_like_the_state_layer_writes_them() -> None:
    records = list(restore.rows(2 * restore.BATCH_EVENTS * 4 + 4000, 4, seed=1))
    accepted = [(p, AcceptedBatch.decode(value)) for p, key, value, _ in records if key.startswith(b"accepted-batch:")]
    spend = [(p, Spend.decode(value)) for p, key, value, _ in records if key.startswith(b"spend:")]
    assert len(accepted) + len(spend) == len(records)
    per_partition = Counter()
    for p, batch in accepted:
        assert {entry.partition for entry in batch.entries} == {p}
        assert batch.key == b"accepted-batch:%d" % batch.entries[0].offset
        assert len(batch.entries) <= restore.BATCH_EVENTS
        per_partition[p] += len(batch.entries)
    per_partition.update(p for p, _ in spend)
    assert per_partition == {0: 5000, 1: 5000, 2: 5000, 3: 5000}
    assert len(spend) == 20


def test_the_table_names_every_figure() -> None:
    figures = {
        "ratio": 0.0625, "events": 1000, "runs": 1, "bare_events_per_s": 40_000.0, "bare_after_events_per_s": 36_000.0,
        "worker_events_per_s": 2000.0,
        "worker_first_to_last_events_per_s": 2500.0,
        "worker_cpu_s": 0.5, "broker_cpu_s": 0.1, "bare_broker_cpu_s": 0.05, "worker_ready_s": 4.0,
        "worker_rss_mib": {"first": 70.0, "last": 90.0, "max": 95.0},
        "archive": {"records_per_s": 30_000.0, "worker_batch_records_per_s": 2200.0, "keeps_up": True},
        "latency": {"rate": 1000.0, "p50_ms": 12, "p95_ms": 40, "p99_ms": 80, "max_ms": 300, "max_gap_ms": 120,
                    "worker_batches": {"batches": 1200, "p50_ms_at_most": 25.0, "p99_ms_at_most": 100.0},
                    "worker_cpu_s": 9.5, "broker_cpu_s": 6.3,
                    "paths": {"home": {"events": 9800, "p50_ms": 11, "p99_ms": 60},
                              "rerouted": {"events": 200, "p50_ms": 30, "p99_ms": 150}},
                    "bare": {"p50_ms": 9, "p95_ms": 30, "p99_ms": 70, "max_ms": 200, "cpu_s": 4.0, "broker_cpu_s": 3.5}},
        "soak": {"seconds": 600.0, "rate": 1000.0, "rss_mib": [[0, 80.0], [5, 90.0]], "rss_slope_mib_per_min": 0.25,
                 "rss_slope_second_half_mib_per_min": -0.5,
                 "state_memory_mib": [[0, 1.0, 0.5], [300, 20.0, 6.0], [600, 40.0, 7.5]],
                 "warm_up_s": 60.0, "traffic_s": 601.0, "outcomes": {"events": 60_000, "answered": 60_000, "missing": 0,
                                                 "missing_seqs": [], "repeated_outcomes": 3}},
        "restore": {"rows": 1_000_000, "available": False, "restored_rows": None, "seconds": None,
                    "rows_per_s": None, "ready_s": 5.0, "serving_s": 6.5},
        "oracle": {"passed": True, "problems": []},
    }
    lines = dict(line.split("  ", 1) for line in report.table(figures).splitlines())
    values = {name.strip(): value.strip() for name, value in lines.items()}
    assert values["bare aiokafka loop"] == "40 000 events/s; 36 000 again after the worker"
    assert values["adtrack worker"] == "2 500 events/s, first to last output (2 000 from ready, group join included)"
    assert values["ratio (worker / bare)"] == "0.062"
    assert values["archive"] == "30 000 records/s into files; the worker wrote tracking.batch at 2 200/s: keeps up"
    assert values["latency at 1 000/s"].startswith("p50 12 ms, p95 40 ms, p99 80 ms, max 300 ms")
    assert values["worker's own part"] == "1 200 batches, fetch to landed: p50 <= 25 ms, p99 <= 100 ms"
    assert values["bare loop at 1 000/s"] == "p50 9 ms, p95 30 ms, p99 70 ms, max 200 ms"
    assert values["latency by path"] == "sent home 9 800: p50 11 ms, p99 60 ms; re-routed 200: p50 30 ms, p99 150 ms"
    assert values["CPU over the phase"] == "worker 9.5 s, broker 6.3 s; bare loop 4.0 s, broker 3.5 s"
    assert values["soak 600 s at 1 000/s"] == "RSS 80 -> 90 MiB, +0.25 MiB/min after 60 s, -0.50 over the second half"
    assert values["state store in memory"] == "block cache 20 MiB at half time, 40 at the end; memtables 8 MiB at the end"
    assert values["soak outcomes"] == "60 000 of 60 000 events, 3 repeated outcome records"
    assert values["restore 1 000 000 rows"].startswith("unavailable")
    assert values["oracle"] == "passed"


def test_the_phase_rate_is_given_or_half_the_measured_maximum_and_not_needed_by_a_restore_alone() -> None:
    measured = {"worker_first_to_last_events_per_s": 24_000.0}
    assert command.phase_rate(Options(runs=1), measured) == 12_000.0
    assert command.phase_rate(Options(runs=0, rate=5_000.0, soak_s=0), {}) == 5_000.0
    # --runs 0 --latency 0 --soak 0: no maximum measured, none needed (this raised a TypeError)
    unmeasured = dict.fromkeys(["worker_first_to_last_events_per_s"])
    assert command.phase_rate(Options(runs=0, latency_s=0, soak_s=0), unmeasured) == 0.0
