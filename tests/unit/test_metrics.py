"""The families the hot paths count: per batch, summed over its campaigns."""

from __future__ import annotations

from collections import Counter

from pipeline.runtime import metrics


def value(name: str, **labels: str) -> float:
    return metrics.registry.get_sample_value(name, labels) or 0.0


def test_outcomes_split_into_outcome_and_reason() -> None:
    assert metrics.outcome_and_reason("rejected:budget_exhausted") == ("rejected", "budget_exhausted")
    assert metrics.outcome_and_reason("dlq:malformed") == ("dlq", "malformed")
    assert metrics.outcome_and_reason("accepted") == ("accepted", "")


def test_a_batch_counts_its_outcomes_summed_over_campaigns_and_one_latency() -> None:
    accepted = value("adtrack_events_total", outcome="accepted", reason="")
    rejected = value("adtrack_events_total", outcome="rejected", reason="unknown_campaign")
    batches = value("adtrack_batch_latency_seconds_count")
    counts = Counter({("accepted", "c1"): 3, ("accepted", "c2"): 2, ("rejected:unknown_campaign", "c3"): 1})
    metrics.count_batch(counts.items(), 0.02)
    assert value("adtrack_events_total", outcome="accepted", reason="") == accepted + 5
    assert value("adtrack_events_total", outcome="rejected", reason="unknown_campaign") == rejected + 1
    assert value("adtrack_batch_latency_seconds_count") == batches + 1
