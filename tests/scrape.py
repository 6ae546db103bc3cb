"""A worker's ``/metrics``, read as Prometheus would: samples by name and labels."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families

from tests.harness import Worker, call

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def scrape(worker: Worker) -> Samples:
    answer = call(worker.web_port, "GET", "/metrics")
    assert answer.status == 200
    assert answer.headers["Content-Type"].startswith("text/plain; version=")
    return {(sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(answer.body.decode())
            for sample in family.samples}


def total(samples: Samples, name: str, **labels: str) -> float:
    """The sum of ``name``'s samples whose labels include ``labels``."""
    return sum(value for (sample, found), value in samples.items()
               if sample == name and set(labels.items()) <= set(found))


def caught_up(worker: Worker) -> bool:
    """Whether the tracking group has committed every record of the raw topic (as this worker sees it)."""
    samples = scrape(worker)
    return any(name == "adtrack_consumer_lag" for name, _ in samples) and total(samples, "adtrack_consumer_lag") == 0
