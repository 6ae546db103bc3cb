"""The worker's Prometheus metrics that its hot paths count; ``pipeline.web.scrape`` serves them at ``/metrics``.

Families live in a registry of their own, not prometheus-client's global one, so importing adtrack
(tests, commands) registers nothing process-wide. The tracking path counts once per landed batch,
with the batch's aggregated counts, never once per event. Values read at scrape time (lag, state
rows, core-data and notification counts) are collected by ``pipeline.web.scrape``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from prometheus_client import CollectorRegistry
from prometheus_client import Counter as CounterFamily
from prometheus_client import Histogram

registry = CollectorRegistry()

#: Core-data updates by result: applied / ignored (not newer) / republished (replayed after a crash) /
#: dead_lettered. The core-data agent counts, the scrape reads (so the web pages need not import the agent).
coredata_updates: Counter[str] = Counter()

events = CounterFamily(
    "adtrack_events", "Raw events by outcome (accepted, rejected, dlq, rerouted) and reason.",
    ["outcome", "reason"], registry=registry,
)
ingest_requests = CounterFamily(
    "adtrack_ingest_requests", "HTTP requests on the public ingest listener by endpoint and status.",
    ["endpoint", "status"], registry=registry,
)
fetch_gaps = CounterFamily(
    "adtrack_fetch_gaps", "Fetches that did not follow on from the last record taken, by topic and what was done: "
    "refetched, or stepped_over (the log holds no records there).", ["topic", "action"], registry=registry,
)
batch_latency = Histogram(
    "adtrack_batch_latency_seconds", "Per tracking batch: from its fetch until it lands (its outputs acknowledged).",
    registry=registry, buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
)


def outcome_and_reason(outcome: str) -> tuple[str, str]:
    """``rejected:budget_exhausted`` -> (``rejected``, ``budget_exhausted``); ``accepted`` -> (``accepted``, ``""``)."""
    kind, _, reason = outcome.partition(":")
    return kind, reason


def count_batch(counts: Iterable[tuple[tuple[str, str | None], int]], seconds: float) -> None:
    """One landed batch: its counts by (outcome, campaign) summed over campaigns, and its latency."""
    by_outcome: Counter[str] = Counter()
    for (outcome, _campaign_id), n in counts:
        by_outcome[outcome] += n
    for outcome, n in by_outcome.items():
        events.labels(*outcome_and_reason(outcome)).inc(n)
    batch_latency.observe(seconds)
