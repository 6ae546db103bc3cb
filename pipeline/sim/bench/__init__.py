"""``python -m pipeline bench``: what one worker does, black-box, through Kafka and its process only.

- ``mix``: the traffic (invalid events, duplicates, re-routed events), numbered for the oracle
- ``backlog``: that traffic preloaded on ``tracking.raw`` with core-data barriers among it
- ``throughput``: the bare aiokafka loop and one worker draining the same backlog
- ``latency``: raw-to-real-time latency at a steady open-loop rate
- ``soak``: the worker's memory over time with a short dedupe window
- ``restore``: a fresh worker rebuilding the tracking state from its changelog
- ``verify``: the oracle's verdict on every event; ``report``: the figures; ``command``: the order of it all
"""

from pipeline.sim.bench.command import SMOKE, Options, run

__all__ = ["SMOKE", "Options", "run"]
