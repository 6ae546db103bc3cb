"""The bench's figures as one JSON document and as the table it prints."""

from __future__ import annotations

from typing import Any

from pipeline.cli.tables import text_table
from pipeline.sim.bench import stats

# Every figure of a complete report; a phase that was skipped or failed leaves its figures null.
KEYS = ("ratio", "events", "runs", "bare_events_per_s", "bare_after_events_per_s", "worker_events_per_s", "worker_first_to_last_events_per_s",
        "worker_cpu_s", "broker_cpu_s",
        "bare_broker_cpu_s", "worker_ready_s", "worker_rss_mib", "archive", "per_run", "latency", "soak", "restore", "oracle")


def summary(events: int, runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The medians over the throughput runs; the ratio is the median of each run's own ratio."""

    def med(phase: str, key: str) -> float:
        return stats.median([r[phase][key] for r in runs])

    return {
        "ratio": stats.median([r["ratio"] for r in runs]), "events": events, "runs": len(runs),
        "bare_events_per_s": med("bare", "events_per_s"), "bare_after_events_per_s": med("bare_after", "events_per_s"),
        "worker_events_per_s": med("worker", "events_per_s"),
        "worker_first_to_last_events_per_s": med("worker", "first_to_last_output_events_per_s"),
        "worker_cpu_s": med("worker", "cpu_s"), "broker_cpu_s": med("worker", "broker_cpu_s"),
        "bare_broker_cpu_s": med("bare", "broker_cpu_s"), "worker_ready_s": med("worker", "ready_s"),
        "worker_rss_mib": {k: stats.median([r["worker"]["rss_mib"][k] for r in runs])
                           for k in ("first", "last", "max")},
        "archive": {"records_per_s": stats.median([r["archive"]["records_per_s"] for r in runs]),
                    "worker_batch_records_per_s": stats.median([r["archive"]["worker_batch_records_per_s"] for r in runs]),
                    "keeps_up": all(r["archive"]["keeps_up"] for r in runs)},
        "per_run": runs,
    }


def _n(value: float | None, digits: int = 0) -> str:
    return "-" if value is None else f"{value:,.{digits}f}".replace(",", " ")


def table(figures: dict[str, Any]) -> str:
    rows: list[tuple[str, str]] = []
    if figures.get("runs"):
        rss = figures["worker_rss_mib"]
        cpu, events = figures["worker_cpu_s"], figures["events"]
        rows += [
            ("bare aiokafka loop", f"{_n(figures['bare_events_per_s'])} events/s; "
                                   f"{_n(figures['bare_after_events_per_s'])} again after the worker"),
            ("adtrack worker", f"{_n(figures['worker_first_to_last_events_per_s'])} events/s, first to last output "
                               f"({_n(figures['worker_events_per_s'])} from ready, group join included)"),
            ("ratio (worker / bare)", f"{figures['ratio']:.3f}"),
            ("worker CPU", f"{cpu:.1f} s ({_n(events / cpu if cpu else None)} events per CPU second)"),
            ("broker CPU", f"{figures['broker_cpu_s']:.1f} s with the worker, "
                           f"{figures['bare_broker_cpu_s']:.1f} s with the bare loop"),
            ("worker ready", f"{figures['worker_ready_s']:.1f} s after start"),
            ("archive", f"{_n(figures['archive']['records_per_s'])} records/s into files; the worker wrote "
                        f"tracking.batch at {_n(figures['archive']['worker_batch_records_per_s'])}/s: "
                        + ("keeps up" if figures["archive"]["keeps_up"] else "falls behind")),
            ("worker RSS", f"{rss['first']:.0f} -> {rss['last']:.0f} MiB (max {rss['max']:.0f})"),
        ]
    if lat := figures.get("latency"):
        rows.append((f"latency at {_n(lat['rate'])}/s", f"p50 {_n(lat['p50_ms'])} ms, p95 {_n(lat['p95_ms'])} ms, "
                     f"p99 {_n(lat['p99_ms'])} ms, max {_n(lat['max_ms'])} ms; "
                     f"longest gap {_n(lat['max_gap_ms'])} ms"))
        if by_path := lat.get("paths"):
            home, moved = by_path["home"], by_path["rerouted"]
            rows.append(("latency by path", f"sent home {_n(home['events'])}: p50 {_n(home['p50_ms'])} ms, "
                                            f"p99 {_n(home['p99_ms'])} ms; re-routed {_n(moved['events'])}: "
                                            f"p50 {_n(moved['p50_ms'])} ms, p99 {_n(moved['p99_ms'])} ms"))
        if own := lat.get("worker_batches"):
            rows.append(("worker's own part", f"{_n(own['batches'])} batches, fetch to landed: "
                                              f"p50 <= {_n(own['p50_ms_at_most'])} ms, "
                                              f"p99 <= {_n(own['p99_ms_at_most'])} ms"))
        if base := lat.get("bare"):
            rows.append((f"bare loop at {_n(lat['rate'])}/s", f"p50 {_n(base['p50_ms'])} ms, p95 {_n(base['p95_ms'])} ms, "
                         f"p99 {_n(base['p99_ms'])} ms, max {_n(base['max_ms'])} ms"))
            rows.append(("CPU over the phase", f"worker {lat['worker_cpu_s']:.1f} s, broker {lat['broker_cpu_s']:.1f} s; "
                                               f"bare loop {base['cpu_s']:.1f} s, broker {base['broker_cpu_s']:.1f} s"))
    if soak := figures.get("soak"):
        samples = soak["rss_mib"]
        rows.append((f"soak {soak['seconds']:.0f} s at {_n(soak['rate'])}/s",
                     f"RSS {samples[0][1]:.0f} -> {samples[-1][1]:.0f} MiB, "
                     f"{soak['rss_slope_mib_per_min']:+.2f} MiB/min after {soak['warm_up_s']:.0f} s, "
                     f"{soak['rss_slope_second_half_mib_per_min']:+.2f} over the second half"))
        if answered := soak.get("outcomes"):
            rows.append(("soak outcomes", f"{_n(answered['answered'])} of {_n(answered['events'])} events, "
                                          f"{_n(answered['repeated_outcomes'])} repeated outcome records"))
        if store := soak.get("store_mib"):
            rows.append(("state store on disk", f"{store[0][1]:.1f} -> {store[-1][1]:.1f} MiB, "
                                                f"{soak['store_slope_mib_per_min']:+.2f} MiB/min after warm-up"))
        if memory := soak.get("state_memory_mib"):
            half = next(row for row in memory if row[0] >= soak["seconds"] / 2)
            rows.append(("state store in memory", f"block cache {half[1]:.0f} MiB at half time, {memory[-1][1]:.0f} "
                                                  f"at the end; memtables {memory[-1][2]:.0f} MiB at the end"))
    if restore := figures.get("restore"):
        what = (f"{_n(restore['restored_rows'])} rows in {restore['seconds']:.1f} s "
                f"({_n(restore['rows_per_s'])} rows/s)" if restore["available"] else "unavailable (no restore line)")
        rows.append((f"restore {_n(restore['rows'])} rows", f"{what}; ready {restore['ready_s']:.1f} s, "
                     f"serving {restore['serving_s']:.1f} s after start"))
    oracle = figures.get("oracle") or {}
    problems = "; ".join(p.splitlines()[0] for p in oracle.get("problems", [])[:3])
    rows.append(("oracle", "passed" if oracle.get("passed") else f"FAILED: {problems}"))
    return text_table(None, rows)
